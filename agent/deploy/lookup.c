/* lookup.c — the cluster reader behind Helm's `lookup` (chart/helm_lookup.c): kind -> resource by discovery, one GET or list, 404 -> empty map. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
#include "helm_lookup.h"

static __thread struct kube *bound; /* borrowed, or owned when made from cfg */
static __thread const struct kube_config *bound_cfg;
static __thread int owned;
static __thread int discovered;

static int lookup_read(void *ctx, const char *api_version, const char *kind, const char *ns, const char *name,
		       json_t **out, struct sm_error *err);

void lookup_use(struct kube *k, const struct kube_config *cfg)
{
	if (owned)
		kube_free(bound);
	bound = k;
	bound_cfg = k ? NULL : cfg;
	owned = 0;
	discovered = 0;
	tmpl_lookup_bind(k || cfg ? lookup_read : NULL, NULL);
}

/* Helm's gvk.String(): "apps/v1, Kind=Deployment", "/v1, Kind=Pod". */
static void gvk_str(char *buf, size_t n, const char *api_version, const char *kind)
{
	const char *slash = strchr(api_version, '/');
	if (slash)
		snprintf(buf, n, "%s, Kind=%s", api_version, kind);
	else
		snprintf(buf, n, "/%s, Kind=%s", api_version, kind);
}

static int served(struct kube *k, const char *api_version)
{
	for (size_t i = 0; i < kube_resource_count(k); i++)
		if (!strcmp(kube_resource_at(k, i)->api_version, api_version))
			return 1;
	return 0;
}

static int fail(struct sm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct sm_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[sizeof err->msg];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sm_error_set(err, NULL, 0, 0, "%s", msg);
	return -1;
}

static int found(json_t **out, json_t *v)
{
	*out = v;
	return 0;
}

static int lookup_read(void *ctx, const char *api_version, const char *kind, const char *ns, const char *name,
		       json_t **out, struct sm_error *err)
{
	(void)ctx;
	char gvk[512];
	struct sm_error ke;
	gvk_str(gvk, sizeof gvk, api_version, kind);
	if (!bound) {
		bound = kube_new(bound_cfg, &ke);
		if (!bound)
			return fail(err, "cannot reach the cluster for %s: %s", gvk, ke.msg);
		owned = 1;
	}
	if (!discovered) {
		if (kube_discover(bound, &ke))
			return fail(err, "unable to get apiresource from unstructured: %s: %s", gvk, ke.msg);
		discovered = 1;
	}
	const struct kube_resource *r = kube_find(bound, api_version, kind);
	if (!r) {
		if (!served(bound, api_version))
			return fail(err,
				    "unable to get apiresource from unstructured: %s: the server could not find the requested "
				    "resource (it does not serve %s)",
				    gvk, api_version);
		return found(out, json_object()); /* Helm: a kind missing from a served group version finds nothing */
	}
	struct kube_req q = {.method = KUBE_GET, .path = kube_path(r, ns, *name ? name : NULL, NULL)};
	kube_do(bound, &q, 1);
	if (q.status == 404) {
		kube_req_clear(&q);
		return found(out, json_object());
	}
	if (q.status != 200 || !json_is_object(q.response)) {
		fail(err, "reading %s %s%s%s from the cluster: %s", gvk, *ns && r->namespaced ? ns : "",
		     *ns && r->namespaced ? "/" : "", *name ? name : "(list)", q.err[0] ? q.err : "no answer");
		kube_req_clear(&q);
		return -1;
	}
	json_t *obj = q.response;
	q.response = NULL;
	kube_req_clear(&q);
	if (!*name) { /* client-go's UnstructuredList gives each item the list's apiVersion and kind */
		size_t i;
		json_t *it;
		json_array_foreach(json_object_get(obj, "items"), i, it) {
			if (!json_is_object(it))
				continue;
			if (!json_object_get(it, "apiVersion"))
				json_object_set_new(it, "apiVersion", json_string(r->api_version));
			if (!json_object_get(it, "kind"))
				json_object_set_new(it, "kind", json_string(r->kind));
		}
	}
	return found(out, obj);
}
