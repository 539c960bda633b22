/* synctoken.c — adds the sync-token Secret to an apply whose rendered pods mount it (synctoken.h). */
#include "synctoken.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base64.h"
#include "errbuf.h"
#include "ownership.h"
#include "render.h"

static int names_token(json_t *ref)
{
	return json_is_object(ref) && !strcmp(json_string_value(json_object_get(ref, "name")) ?: "", SYNCTOKEN_SECRET);
}

/* Any value below v that refers to the Secret: {secretName: S} (a volume), {secret: {name: S}}
 * (a projected volume's source), {secretKeyRef|secretRef: {name: S}} (env, envFrom). */
static int refers(json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (refers(x))
				return 1;
		}
		return 0;
	}
	json_object_foreach(v, key, x) {
		if (!strcmp(key, "secretName") && !strcmp(json_string_value(x) ?: "", SYNCTOKEN_SECRET))
			return 1;
		if ((!strcmp(key, "secret") || !strcmp(key, "secretKeyRef") || !strcmp(key, "secretRef")) && names_token(x))
			return 1;
		if ((json_is_object(x) || json_is_array(x)) && refers(x))
			return 1;
	}
	return 0;
}

static int is_the_secret(json_t *o)
{
	return !strcmp(json_string_value(json_object_get(o, "kind")) ?: "", "Secret") &&
	       !strcmp(json_string_value(json_object_get(o, "apiVersion")) ?: "", "v1") &&
	       !strcmp(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")) ?: "", SYNCTOKEN_SECRET);
}

int synctoken_needed(json_t *rendered)
{
	size_t i;
	json_t *e;
	int needed = 0;
	json_array_foreach(rendered, i, e) {
		json_t *o = json_object_get(e, "object");
		if (is_the_secret(o))
			return 0; /* the templates make it themselves */
		if (!needed && json_object_get(o, "spec"))
			needed = refers(json_object_get(o, "spec"));
	}
	return needed;
}

/* A new token: 24 random bytes as 48 hex digits, base64-encoded as a Secret's data holds it. */
static char *new_token(struct sm_error *err)
{
	unsigned char raw[24];
	char hex[49];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		sm_error_set(err, NULL, 0, 0, "cannot get random bytes for the sync token (getrandom)");
		return NULL;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	char *b64 = base64_encode(hex, 48);
	explicit_bzero(raw, sizeof raw);
	explicit_bzero(hex, sizeof hex);
	return b64;
}

int synctoken_entry(struct kube *k, json_t *rendered, const char *ns, const char *set, json_t **out, struct sm_error *err)
{
	*out = NULL;
	if (!synctoken_needed(rendered))
		return 0;
	struct kube_req r = {.method = KUBE_GET};
	if (asprintf(&r.path, "/api/v1/namespaces/%s/secrets/%s", ns, SYNCTOKEN_SECRET) < 0)
		return -1;
	kube_do(k, &r, 1);
	char *token = NULL;
	if (r.status == 200) {
		const char *live = json_string_value(json_object_get(json_object_get(r.response, "data"), "token"));
		if (!own_labelled(r.response, set)) {
			kube_req_clear(&r); /* not this set's: used as it is */
			return 0;
		}
		if (live && *live)
			token = strdup(live);
	} else if (r.status != 404) {
		sm_error_set(err, NULL, 0, 0, "reading Secret %s/%s (synced source mode's token): %s", ns, SYNCTOKEN_SECRET, r.err);
		kube_req_clear(&r);
		return -1;
	}
	kube_req_clear(&r);
	if (!token && !(token = new_token(err)))
		return -1;
	json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:{s:s}}, s:s, s:{s:s}}", "apiVersion", "v1",
				"kind", "Secret", "metadata", "name", SYNCTOKEN_SECRET, "namespace", ns, "labels",
				RENDER_LABEL_MANAGED_BY, RENDER_MANAGED_BY, RENDER_LABEL_SET, set, "annotations",
				RENDER_ANNOTATION_SOURCE, SYNCTOKEN_ORIGIN, "type", "Opaque", "data", "token", token);
	explicit_bzero(token, strlen(token));
	free(token);
	if (!obj)
		return -1;
	*out = json_pack("{s:s, s:i, s:o}", "file", SYNCTOKEN_ORIGIN, "line", 0, "object", obj);
	return 0;
}
