/* sync.c — apply ordering, immutable-field recreation, owned-only prune, diff and rollout waiting over kube.h. */
#include "sync.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "wait.h"
#include "render.h"
#include "sha256.h"
#include "yamlemit.h"

#define FIELD_MANAGER "appdeploy"

/* One rendered object on its way to the server. */
struct item {
	json_t *obj;                     /* the rendered object (borrowed from the render result) */
	const char *file;                /* template it came from */
	int line;                        /* line of its document in the rendered output */
	const struct kube_resource *res; /* NULL until resolved */
	const char *name;
	int phase;       /* apply order, see phase_of */
	char *label;     /* "deployment.apps/web" for messages */
	char *key;       /* identity: group/kind/namespace/name */
	json_t *live;    /* the owned live object before apply (borrowed), NULL when none */
	int exists;      /* a live object of that name existed before apply (owned or not) */
	int ok;          /* apply succeeded */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *meta_str(json_t *o, const char *k)
{
	return str(json_object_get(o, "metadata"), k);
}

/* The API group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""), written into buf. */
static const char *group_of(const char *api_version, char *buf, size_t len)
{
	const char *slash = strrchr(api_version, '/');
	size_t n = slash ? (size_t)(slash - api_version) : 0;
	if (n >= len)
		n = len - 1;
	memcpy(buf, api_version, n);
	buf[n] = 0;
	return buf;
}

static char *make_key(const char *api_version, const char *kind, const char *ns, const char *name)
{
	char g[256], *k;
	if (asprintf(&k, "%s/%s/%s/%s", group_of(api_version, g, sizeof g), kind, ns ? ns : "", name) < 0)
		return NULL;
	return k;
}

static char *make_label(const char *api_version, const char *kind, const char *name)
{
	char g[256], *l, lower[256];
	size_t i;
	for (i = 0; kind[i] && i < sizeof lower - 1; i++)
		lower[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] - 'A' + 'a' : kind[i]);
	lower[i] = 0;
	group_of(api_version, g, sizeof g);
	if (asprintf(&l, "%s%s%s/%s", lower, *g ? "." : "", g, name) < 0)
		return NULL;
	return l;
}

/* Apply order: what others depend on goes first. */
static int phase_of(const char *kind)
{
	static const char *order[][3] = {
		{"Namespace", NULL, NULL},
		{"CustomResourceDefinition", NULL, NULL},
		{"ServiceAccount", NULL, NULL},
		{"ClusterRole", "Role", NULL},
		{"ClusterRoleBinding", "RoleBinding", NULL},
		{"ConfigMap", "Secret", NULL},
	};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		for (size_t j = 0; j < 3 && order[i][j]; j++)
			if (!strcmp(kind, order[i][j]))
				return (int)i;
	return 6;
}
#define NPHASES 7

/* Kinds Kubernetes itself creates and manages: never listed for prune. */
static int system_kind(const struct kube_resource *r)
{
	return !strcmp(r->kind, "Event") || !strcmp(r->kind, "Endpoints") || !strcmp(r->kind, "EndpointSlice") ||
	       !strcmp(r->kind, "Binding") || !strcmp(r->kind, "ControllerRevision") ||
	       !strcmp(r->kind, "PodMetrics") || !strcmp(r->kind, "Lease");
}

/* Objects in a namespace that are not ours even when they carry our labels. */
static int system_object(json_t *o, const char *kind)
{
	json_t *refs = json_object_get(json_object_get(o, "metadata"), "ownerReferences");
	if (json_array_size(refs))
		return 1;
	const char *name = meta_str(o, "name");
	if (!name)
		return 1;
	if (!strcmp(kind, "ServiceAccount") && !strcmp(name, "default"))
		return 1;
	if (!strcmp(kind, "ConfigMap") && !strcmp(name, "kube-root-ca.crt"))
		return 1;
	return 0;
}

static char *owner_selector(const char *set_name)
{
	char *s;
	if (asprintf(&s, "%s=%s,%s=%s", RENDER_LABEL_MANAGED_BY, RENDER_MANAGED_BY, RENDER_LABEL_SET, set_name) < 0)
		return NULL;
	return s;
}

static int owned(json_t *o, const char *set_name)
{
	json_t *labels = json_object_get(json_object_get(o, "metadata"), "labels");
	const char *m = str(labels, RENDER_LABEL_MANAGED_BY), *s = str(labels, RENDER_LABEL_SET);
	return m && s && !strcmp(m, RENDER_MANAGED_BY) && !strcmp(s, set_name);
}

static void items_free(struct item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(it[i].label);
		free(it[i].key);
	}
	free(it);
}

/* Builds the items and resolves their kinds. Kinds that a rendered CRD will define may stay
 * unresolved (*pending counts them). Returns 0 or -1 with err filled. */
static int items_build(struct kube *k, json_t *rendered, const char *ns, struct item **out, size_t *nout,
		       size_t *pending, char *err, size_t errlen)
{
	size_t n = json_array_size(rendered);
	struct item *it = calloc(n ? n : 1, sizeof *it);
	*pending = 0;
	int has_crd = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(rendered, i);
		it[i].obj = json_object_get(e, "object");
		it[i].file = str(e, "file");
		it[i].line = (int)json_integer_value(json_object_get(e, "line"));
		it[i].name = meta_str(it[i].obj, "name");
		const char *kind = str(it[i].obj, "kind");
		it[i].phase = phase_of(kind);
		has_crd |= !strcmp(kind, "CustomResourceDefinition");
		it[i].label = make_label(str(it[i].obj, "apiVersion"), kind, it[i].name);
	}
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const char *av = str(it[i].obj, "apiVersion"), *kind = str(it[i].obj, "kind");
		it[i].res = kube_find(k, av, kind);
		if (!it[i].res) {
			if (has_crd) {
				(*pending)++;
				continue;
			}
			set_err(err, errlen, "%s:%d: the server has no kind %s in apiVersion %s", it[i].file, it[i].line,
				kind, av);
			rc = -1;
			break;
		}
		const char *ons = meta_str(it[i].obj, "namespace");
		if (it[i].res->namespaced) {
			if (ons && *ons && strcmp(ons, ns)) {
				set_err(err, errlen,
					"%s:%d: %s is in namespace \"%s\" but this sync targets namespace \"%s\" (leave "
					"metadata.namespace out, or use {{ .Namespace }})",
					it[i].file, it[i].line, it[i].label, ons, ns);
				rc = -1;
				break;
			}
			json_object_set_new(json_object_get(it[i].obj, "metadata"), "namespace", json_string(ns));
		}
		it[i].key = make_key(av, kind, it[i].res->namespaced ? ns : "", it[i].name);
		for (size_t j = 0; j < i && !rc; j++)
			if (it[j].key && !strcmp(it[j].key, it[i].key)) {
				set_err(err, errlen, "%s:%d: %s is rendered twice (first by %s:%d)", it[i].file, it[i].line,
					it[i].label, it[j].file, it[j].line);
				rc = -1;
			}
	}
	if (rc) {
		items_free(it, n);
		return -1;
	}
	*out = it;
	*nout = n;
	return 0;
}

/* Resolves the kinds left pending after CRDs were applied: waits for the rendered CRDs to be Established
 * (wait.c), then rediscovers once. A kind still missing names its CRD. */
static int items_resolve_pending(struct kube *k, struct item *it, size_t n, const char *ns, double timeout, char *err,
				 size_t errlen)
{
	const char **crds = calloc(n ? n : 1, sizeof *crds);
	size_t nc = 0;
	for (size_t i = 0; i < n; i++)
		if (it[i].ok && !strcmp(str(it[i].obj, "kind"), "CustomResourceDefinition"))
			crds[nc++] = it[i].name;
	char werr[768] = "";
	int waited = wait_crds_established(k, crds, nc, timeout > 0 ? timeout : 300, werr, sizeof werr);
	free(crds);
	if (kube_discover_refresh(k, err, errlen))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (it[i].key)
			continue;
		const char *av = str(it[i].obj, "apiVersion"), *kind = str(it[i].obj, "kind");
		it[i].res = kube_find(k, av, kind);
		if (!it[i].res) {
			/* name the rendered CRD that should have defined it */
			const char *slash = strchr(av, '/'), *crd = NULL;
			for (size_t j = 0; j < n && !crd; j++) {
				json_t *spec = json_object_get(it[j].obj, "spec");
				const char *g = str(spec, "group"), *kd = str(json_object_get(spec, "names"), "kind");
				if (!strcmp(str(it[j].obj, "kind"), "CustomResourceDefinition") && g && kd && slash &&
				    strlen(g) == (size_t)(slash - av) && !strncmp(g, av, (size_t)(slash - av)) && !strcmp(kd, kind))
					crd = it[j].name;
			}
			if (crd)
				set_err(err, errlen, "%s:%d: %s needs customresourcedefinition %s: %s", it[i].file, it[i].line,
					it[i].label, crd,
					waited ? werr : "it is established but does not serve this apiVersion");
			else
				set_err(err, errlen,
					"%s:%d: the server has no kind %s in apiVersion %s (no CustomResourceDefinition in this "
					"render defines it)",
					it[i].file, it[i].line, kind, av);
			return -1;
		}
		if (it[i].res->namespaced)
			json_object_set_new(json_object_get(it[i].obj, "metadata"), "namespace", json_string(ns));
		it[i].key = make_key(av, kind, it[i].res->namespaced ? ns : "", it[i].name);
	}
	return 0;
}

/* The namespaced kinds that prune (and diff) look at. */
static size_t prunable(struct kube *k, const struct kube_resource ***out)
{
	size_t n = kube_resource_count(k), m = 0;
	const struct kube_resource **v = calloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		const struct kube_resource *r = kube_resource_at(k, i);
		unsigned need = KUBE_VERB_LIST | KUBE_VERB_DELETE;
		if (r->namespaced && r->preferred && (r->verbs & need) == need && !system_kind(r))
			v[m++] = r;
	}
	*out = v;
	return m;
}

/* Lists the owned objects of every prunable kind: returns an array of live objects (each with
 * "kind"/"apiVersion" filled in, as list items may lack them), or NULL with err filled. */
static json_t *list_live(struct kube *k, const char *ns, const char *selector, char *err, size_t errlen)
{
	const struct kube_resource **res;
	size_t n = prunable(k, &res);
	json_t **items = calloc(n ? n : 1, sizeof *items);
	json_t *all = NULL;
	if (!kube_list_many(k, res, n, ns, selector, items, err, errlen)) {
		all = json_array();
		for (size_t i = 0; i < n; i++) {
			size_t j;
			json_t *o;
			json_array_foreach(items[i], j, o) {
				json_object_set_new(o, "apiVersion", json_string(res[i]->api_version));
				json_object_set_new(o, "kind", json_string(res[i]->kind));
				json_array_append(all, o);
			}
			json_decref(items[i]);
		}
	}
	free(items);
	free(res);
	return all;
}

static char *live_key(json_t *o)
{
	return make_key(str(o, "apiVersion"), str(o, "kind"), meta_str(o, "namespace"), meta_str(o, "name"));
}

static int immutable_rejection(const struct kube_req *r)
{
	if (r->status != 422)
		return 0;
	const char *msg = str(r->response, "message");
	return msg && (strstr(msg, "immutable") || strstr(msg, "may not change") || strstr(msg, "may not be changed") ||
		       strstr(msg, "cannot change"));
}

static json_t *comparable(json_t *o);

/* True when the server's answer equals the object before the apply, bookkeeping aside (a status
 * update by a controller bumps resourceVersion without us changing anything). */
static int same_object(json_t *before, json_t *after)
{
	if (!before || !after)
		return 0;
	json_t *a = comparable(before), *b = comparable(after);
	int eq = json_equal(a, b);
	json_decref(a);
	json_decref(b);
	return eq;
}

static void apply_req(struct kube_req *r, struct item *it, const char *ns)
{
	memset(r, 0, sizeof *r);
	r->method = KUBE_APPLY;
	r->path = kube_path(it->res, ns, it->name, "fieldManager=" FIELD_MANAGER "&force=true");
	r->body = it->obj;
	r->data = it;
}

/* Waits until GET answers 404 (the deletion finished), up to timeout seconds. */
static int wait_gone(struct kube *k, const struct kube_resource *res, const char *ns, const char *name, double timeout)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct kube_req r = {.method = KUBE_GET, .path = kube_path(res, ns, name, NULL)};
		kube_do(k, &r, 1);
		long st = r.status;
		kube_req_clear(&r);
		if (st == 404)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 > timeout)
			return -1;
		struct timespec ts = {0, 200000000L};
		nanosleep(&ts, NULL);
	}
}

/* Deletes and re-applies an object the server refused to change in place. */
static int recreate(struct kube *k, struct item *it, const char *ns, const struct sync_opts *o, const char *why)
{
	if (o->dry_run) {
		fprintf(o->out, "%s would be recreated (dry run): %s\n", it->label, why);
		return 0;
	}
	fprintf(o->out, "%s: recreating it, the server refuses to change it in place: %s\n", it->label, why);
	struct kube_req d = {.method = KUBE_DELETE, .path = kube_path(it->res, ns, it->name, "propagationPolicy=Background")};
	kube_do(k, &d, 1);
	if ((d.status < 200 || d.status > 299) && d.status != 404) {
		log_error("%s:%d: %s: delete for recreation failed: %s", it->file, it->line, it->label, d.err);
		kube_req_clear(&d);
		return -1;
	}
	kube_req_clear(&d);
	if (wait_gone(k, it->res, ns, it->name, 60)) {
		log_error("%s:%d: %s: still there 60s after deleting it for recreation", it->file, it->line, it->label);
		return -1;
	}
	struct kube_req a;
	apply_req(&a, it, ns);
	kube_do(k, &a, 1);
	int rc = a.status >= 200 && a.status <= 299 ? 0 : -1;
	if (rc)
		log_error("%s:%d: %s: apply after recreation failed: %s", it->file, it->line, it->label, a.err);
	else
		fprintf(o->out, "%s recreated\n", it->label);
	kube_req_clear(&a);
	return rc;
}

/* True when every field of want is in have with the same value (have may hold more: defaults,
 * other managers' fields). Lists must match element by element. */
static int subset(json_t *want, json_t *have)
{
	if (json_is_object(want)) {
		if (!json_is_object(have))
			return 0;
		const char *k;
		json_t *v;
		json_object_foreach(want, k, v) {
			if (!subset(v, json_object_get(have, k)))
				return 0;
		}
		return 1;
	}
	if (json_is_array(want)) {
		if (!json_is_array(have) || json_array_size(want) != json_array_size(have))
			return 0;
		for (size_t i = 0; i < json_array_size(want); i++)
			if (!subset(json_array_get(want, i), json_array_get(have, i)))
				return 0;
		return 1;
	}
	return have && json_equal(want, have);
}

static int applied_by_us(json_t *live)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(json_object_get(live, "metadata"), "managedFields"), i, m) {
		const char *mgr = str(m, "manager"), *op = str(m, "operation");
		if (mgr && op && !strcmp(mgr, FIELD_MANAGER) && !strcmp(op, "Apply"))
			return 1;
	}
	return 0;
}

/*
 * Stamps the object with the digest of what we render (the applied annotation) and tells whether
 * applying it can be skipped: the live object was last applied by us from the very same render
 * and still holds every value we set. Anything else (drift in a field we set, a server that
 * normalizes a value, another render) goes to the server, so skipping never hides a change.
 */
static int stamp_and_check_unchanged(struct item *it)
{
	json_t *md = json_object_get(it->obj, "metadata");
	json_t *ann = json_object_get(md, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(md, "annotations", ann);
	}
	json_object_del(ann, SYNC_ANNOTATION_APPLIED);
	char *canon = json_dumps(it->obj, JSON_COMPACT | JSON_SORT_KEYS);
	char hex[65];
	sha256_hex(canon, strlen(canon), hex);
	free(canon);
	json_object_set_new(ann, SYNC_ANNOTATION_APPLIED, json_string(hex));
	if (!it->live)
		return 0;
	const char *was = str(json_object_get(json_object_get(it->live, "metadata"), "annotations"), SYNC_ANNOTATION_APPLIED);
	return was && !strcmp(was, hex) && applied_by_us(it->live) && subset(it->obj, it->live);
}

/* Applies one phase's items concurrently. Returns the number of failures. */
static size_t apply_phase(struct kube *k, struct item **v, size_t n, const struct sync_opts *o)
{
	if (!n)
		return 0;
	struct kube_req *reqs = calloc(n, sizeof *reqs);
	const char *dry = o->dry_run ? " (dry run)" : "";
	size_t q = 0;
	for (size_t i = 0; i < n; i++) {
		if (stamp_and_check_unchanged(v[i]) && !o->force) {
			fprintf(o->out, "%s unchanged%s\n", v[i]->label, dry);
			v[i]->ok = 1;
			continue;
		}
		apply_req(&reqs[q++], v[i], o->ns);
	}
	kube_do(k, reqs, q);
	size_t failed = 0;
	for (size_t i = 0; i < q; i++) {
		struct item *it = reqs[i].data;
		struct kube_req *r = &reqs[i];
		if (r->status >= 200 && r->status <= 299) {
			const char *what = r->status == 201 ? "created" : same_object(it->live, r->response) ? "unchanged" : "configured";
			if (o->dry_run && !strcmp(what, "configured") && !it->exists)
				what = "created";
			fprintf(o->out, "%s %s%s\n", it->label, what, dry);
			it->ok = 1;
		} else if (immutable_rejection(r)) {
			if (recreate(k, it, o->ns, o, str(r->response, "message")))
				failed++;
			else
				it->ok = 1;
		} else {
			log_error("%s:%d: %s: %s", it->file, it->line, it->label, r->err);
			failed++;
		}
		kube_req_clear(r);
	}
	free(reqs);
	return failed;
}

static const struct kube_resource *core(struct kube *k, const char *kind)
{
	return kube_find(k, "v1", kind);
}

/* Creates the namespace when it is missing. Returns 0, or -1 after logging. *missing tells whether
 * it did not exist (in dry-run it is then not created). */
static int ensure_namespace(struct kube *k, const struct sync_opts *o, int rendered, int *missing)
{
	const struct kube_resource *nsr = core(k, "Namespace");
	*missing = 0;
	if (!nsr) {
		log_error("the server has no v1 Namespace kind");
		return -1;
	}
	struct kube_req r = {.method = KUBE_GET, .path = kube_path(nsr, NULL, o->ns, NULL)};
	kube_do(k, &r, 1);
	long st = r.status;
	if (st == 200 || (st != 404)) {
		if (st != 200)
			log_error("namespace %s: %s", o->ns, r.err);
		kube_req_clear(&r);
		return st == 200 ? 0 : -1;
	}
	kube_req_clear(&r);
	*missing = 1;
	if (rendered)
		return 0; /* phase 0 applies it */
	if (o->dry_run) {
		fprintf(o->out, "namespace/%s created (dry run)\n", o->ns);
		return 0;
	}
	json_t *body = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", o->ns);
	struct kube_req c = {.method = KUBE_POST, .path = kube_path(nsr, NULL, NULL, "fieldManager=" FIELD_MANAGER),
			     .body = body};
	kube_do(k, &c, 1);
	int rc = c.status == 201 || c.status == 409 ? 0 : -1;
	if (rc)
		log_error("creating namespace %s: %s", o->ns, c.err);
	else
		fprintf(o->out, "namespace/%s created\n", o->ns);
	kube_req_clear(&c);
	json_decref(body);
	return rc;
}

/* Adds the -i secrets to the default ServiceAccount's imagePullSecrets, keeping the ones there. */
static int merge_pull_secrets(struct kube *k, const struct sync_opts *o)
{
	if (!o->n_pull_secrets)
		return 0;
	const struct kube_resource *sa = core(k, "ServiceAccount");
	if (!sa) {
		log_error("the server has no v1 ServiceAccount kind");
		return -1;
	}
	int rc = -1;
	for (int attempt = 0; attempt < 10; attempt++) {
		struct kube_req g = {.method = KUBE_GET, .path = kube_path(sa, o->ns, "default", NULL)};
		kube_do(k, &g, 1);
		if (g.status == 404 && o->dry_run) {
			fprintf(o->out, "serviceaccount/default imagePullSecrets would be set (dry run)\n");
			kube_req_clear(&g);
			return 0;
		}
		if (g.status == 404) { /* the namespace is new: its default ServiceAccount comes a moment later */
			kube_req_clear(&g);
			struct timespec ts = {0, 300000000L};
			nanosleep(&ts, NULL);
			continue;
		}
		if (g.status != 200) {
			log_error("serviceaccount/default: %s", g.err);
			kube_req_clear(&g);
			return -1;
		}
		json_t *have = json_object_get(g.response, "imagePullSecrets");
		json_t *list = json_is_array(have) ? json_deep_copy(have) : json_array();
		int added = 0;
		for (size_t i = 0; i < o->n_pull_secrets; i++) {
			int found = 0;
			size_t j;
			json_t *e;
			json_array_foreach(list, j, e) found |= str(e, "name") && !strcmp(str(e, "name"), o->pull_secrets[i]);
			if (!found) {
				json_array_append_new(list, json_pack("{s:s}", "name", o->pull_secrets[i]));
				added++;
			}
		}
		const char *rv = meta_str(g.response, "resourceVersion");
		json_t *patch = json_pack("{s:o, s:{s:s}}", "imagePullSecrets", list, "metadata", "resourceVersion",
					  rv ? rv : "");
		kube_req_clear(&g);
		if (!added) {
			json_decref(patch);
			fprintf(o->out, "serviceaccount/default imagePullSecrets unchanged\n");
			return 0;
		}
		/* resourceVersion in the merge patch makes it a compare-and-swap: 409 means someone else
		 * changed the list meanwhile, so read it again */
		struct kube_req p = {.method = KUBE_MERGE_PATCH,
				     .path = kube_path(sa, o->ns, "default", "fieldManager=" FIELD_MANAGER),
				     .body = patch};
		kube_do(k, &p, 1);
		long st = p.status;
		if (st == 200)
			fprintf(o->out, "serviceaccount/default imagePullSecrets merged%s\n", o->dry_run ? " (dry run)" : "");
		else if (st != 409)
			log_error("serviceaccount/default: %s", p.err);
		kube_req_clear(&p);
		json_decref(patch);
		if (st == 409)
			continue;
		rc = st == 200 ? 0 : -1;
		break;
	}
	return rc;
}

static int prune(struct kube *k, struct item *it, size_t n, json_t *live, const struct sync_opts *o)
{
	size_t m = json_array_size(live), count = 0;
	struct kube_req *reqs = calloc(m ? m : 1, sizeof *reqs);
	for (size_t i = 0; i < m; i++) {
		json_t *l = json_array_get(live, i);
		if (system_object(l, str(l, "kind")) || !owned(l, o->set_name))
			continue;
		char *key = live_key(l);
		int rendered = 0;
		for (size_t j = 0; j < n && !rendered; j++)
			rendered = it[j].key && key && !strcmp(it[j].key, key);
		free(key);
		if (rendered)
			continue;
		const struct kube_resource *res = kube_find(k, str(l, "apiVersion"), str(l, "kind"));
		if (!res)
			continue;
		reqs[count].method = KUBE_DELETE;
		reqs[count].path = kube_path(res, o->ns, meta_str(l, "name"), "propagationPolicy=Background");
		reqs[count].data = l;
		count++;
	}
	kube_do(k, reqs, count);
	int rc = 0;
	for (size_t i = 0; i < count; i++) {
		json_t *l = reqs[i].data;
		char *label = make_label(str(l, "apiVersion"), str(l, "kind"), meta_str(l, "name"));
		if ((reqs[i].status >= 200 && reqs[i].status <= 299) || reqs[i].status == 404) {
			fprintf(o->out, "%s pruned%s\n", label, o->dry_run ? " (dry run)" : "");
		} else {
			log_error("prune %s: %s", label, reqs[i].err);
			rc = -1;
		}
		free(label);
		kube_req_clear(&reqs[i]);
	}
	free(reqs);
	return rc;
}

/* Follows every applied object that can become ready (wait.c knows the kinds). */
static int wait_rollouts(struct kube *k, struct item *it, size_t n, const struct sync_opts *o)
{
	struct wait_target *t = calloc(n ? n : 1, sizeof *t);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (it[i].ok && it[i].res)
			t[m++] = (struct wait_target){it[i].res, it[i].name, it[i].label};
	int rc = wait_ready(k, t, m, o->ns, o->wait_timeout, o->out);
	free(t);
	return rc;
}

int sync_apply(struct kube *k, json_t *rendered, const struct sync_opts *o, char *err, size_t errlen)
{
	kube_set_dry_run(k, o->dry_run);
	if (kube_discover(k, err, errlen))
		return -1;
	struct item *it;
	size_t n, pending;
	if (items_build(k, rendered, o->ns, &it, &n, &pending, err, errlen))
		return -1;
	int rendered_ns = 0;
	for (size_t i = 0; i < n; i++)
		rendered_ns |= it[i].res && !strcmp(it[i].res->kind, "Namespace") && !strcmp(it[i].name, o->ns);
	int ns_missing = 0;
	if (ensure_namespace(k, o, rendered_ns, &ns_missing)) {
		items_free(it, n);
		set_err(err, errlen, "namespace %s is not usable; nothing was applied", o->ns);
		return -1;
	}
	char *sel = owner_selector(o->set_name);
	json_t *live = ns_missing ? json_array() : list_live(k, o->ns, sel, err, errlen);
	free(sel);
	if (!live) {
		items_free(it, n);
		return -1;
	}
	/* remember what existed, to tell created/configured/unchanged apart */
	for (size_t i = 0; i < json_array_size(live); i++) {
		json_t *l = json_array_get(live, i);
		char *key = live_key(l);
		for (size_t j = 0; j < n && key; j++)
			if (it[j].key && !strcmp(it[j].key, key)) {
				it[j].live = l;
				it[j].exists = 1;
			}
		free(key);
	}
	size_t failed = 0;
	struct item **v = calloc(n ? n : 1, sizeof *v);
	for (int phase = 0; phase < NPHASES; phase++) {
		if (phase == 2 && pending) {
			/* CRDs are in: their kinds appear in discovery once established */
			if (o->dry_run) {
				for (size_t i = 0; i < n; i++)
					if (!it[i].key) {
						fprintf(o->out, "%s skipped (dry run: its CRD is not installed yet)\n", it[i].label);
						it[i].ok = 1;
					}
			} else if (failed || items_resolve_pending(k, it, n, o->ns, o->wait_timeout, err, errlen)) {
				if (!failed)
					log_error("%s", err);
				failed++;
			}
		}
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (it[i].phase == phase && it[i].key && !it[i].ok)
				v[m++] = &it[i];
		if (ns_missing && o->dry_run && phase > 0) {
			/* a dry run cannot ask the server about objects in a namespace that does not exist yet */
			for (size_t i = 0; i < m; i++)
				if (v[i]->res->namespaced) {
					fprintf(o->out, "%s created (dry run)\n", v[i]->label);
					v[i]->ok = 1;
				}
			size_t w = 0;
			for (size_t i = 0; i < m; i++)
				if (!v[i]->ok)
					v[w++] = v[i];
			m = w;
		}
		failed += apply_phase(k, v, m, o);
	}
	free(v);
	int rc = 0;
	if (failed) {
		set_err(err, errlen, "%zu object%s failed to apply; nothing was pruned", failed, failed == 1 ? "" : "s");
		rc = -1;
	}
	if (!rc && merge_pull_secrets(k, o)) {
		set_err(err, errlen, "could not merge image pull secrets into serviceaccount/default; nothing was pruned");
		rc = -1;
	}
	if (!rc && o->prune && prune(k, it, n, live, o)) {
		set_err(err, errlen, "pruning failed");
		rc = -1;
	}
	if (!rc && o->wait && !o->dry_run && wait_rollouts(k, it, n, o)) {
		set_err(err, errlen, "rollout did not complete");
		rc = -1;
	}
	json_decref(live);
	items_free(it, n);
	return rc;
}

/* ---------------------------------------------------------------- diff */

/* A copy of o without what the server keeps for itself, for comparing. */
static json_t *comparable(json_t *o)
{
	json_t *c = json_deep_copy(o);
	json_t *md = json_object_get(c, "metadata");
	static const char *drop[] = {"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp",
				     "selfLink"};
	for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
		json_object_del(md, drop[i]);
	/* the digest changes with any change: noise next to the change itself */
	json_t *ann = json_object_get(md, "annotations");
	json_object_del(ann, SYNC_ANNOTATION_APPLIED);
	if (json_is_object(ann) && !json_object_size(ann))
		json_object_del(md, "annotations");
	json_object_del(c, "status");
	return c;
}

static char *text_of(json_t *o)
{
	if (!o)
		return strdup("");
	return yaml_emit(o, NULL);
}

/* Splits text into lines (pointers into a copy). */
static size_t split_lines(char *t, char ***out)
{
	size_t n = 0, cap = 64;
	char **v = malloc(cap * sizeof *v);
	for (char *p = t; *p;) {
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		v[n++] = p;
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = 0;
		p = nl + 1;
	}
	*out = v;
	return n;
}

int sync_udiff(FILE *out, const char *label_a, const char *a, const char *label_b, const char *b)
{
	if (!strcmp(a, b))
		return 0;
	char *ta = strdup(a), *tb = strdup(b);
	char **la, **lb;
	size_t n = split_lines(ta, &la), m = split_lines(tb, &lb);
	/* LCS table from the end: lcs[i][j] = common lines of la[i..] and lb[j..] */
	unsigned *lcs = calloc((n + 1) * (m + 1), sizeof *lcs);
#define L(i, j) lcs[(i) * (m + 1) + (j)]
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			L(i, j) = !strcmp(la[i], lb[j]) ? L(i + 1, j + 1) + 1
							: (L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1));
	/* the edit script: ' ', '-', '+' with line indexes */
	size_t cap = n + m + 1, e = 0;
	char *op = malloc(cap);
	size_t *ia = malloc(cap * sizeof *ia), *ib = malloc(cap * sizeof *ib);
	size_t i = 0, j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && !strcmp(la[i], lb[j]))
			op[e] = ' ', ia[e] = i++, ib[e] = j++;
		else if (j < m && (i == n || L(i, j + 1) > L(i + 1, j)))
			op[e] = '+', ia[e] = i, ib[e] = j++;
		else
			op[e] = '-', ia[e] = i++, ib[e] = j;
		e++;
	}
#undef L
	fprintf(out, "--- %s\n+++ %s\n", label_a, label_b);
	const size_t ctx = 3;
	for (size_t s = 0; s < e;) {
		if (op[s] == ' ') {
			s++;
			continue;
		}
		size_t start = s > ctx ? s - ctx : 0, end = s;
		/* extend the hunk while changes are within 2*ctx of each other */
		for (size_t q = s; q < e; q++)
			if (op[q] != ' ') {
				if (q > end + 2 * ctx && end != s)
					break;
				end = q;
			}
		size_t stop = end + ctx + 1 < e ? end + ctx + 1 : e;
		size_t na = 0, nb = 0;
		for (size_t q = start; q < stop; q++) {
			na += op[q] != '+';
			nb += op[q] != '-';
		}
		fprintf(out, "@@ -%zu,%zu +%zu,%zu @@\n", na ? ia[start] + 1 : ia[start], na, nb ? ib[start] + 1 : ib[start],
			nb);
		for (size_t q = start; q < stop; q++)
			fprintf(out, "%c%s\n", op[q], op[q] == '+' ? lb[ib[q]] : la[ia[q]]);
		s = stop;
	}
	free(op);
	free(ia);
	free(ib);
	free(lcs);
	free(la);
	free(lb);
	free(ta);
	free(tb);
	return 1;
}

int sync_diff(struct kube *k, json_t *rendered, const struct sync_opts *o, FILE *out, int *changes, char *err,
	      size_t errlen)
{
	*changes = 0;
	if (kube_discover(k, err, errlen))
		return -1;
	struct item *it;
	size_t n, pending;
	if (items_build(k, rendered, o->ns, &it, &n, &pending, err, errlen))
		return -1;
	/* everything in the namespace, to find both what we own and what we do not */
	json_t *live = list_live(k, o->ns, NULL, err, errlen);
	if (!live) {
		items_free(it, n);
		return -1;
	}
	struct kube_req *gets = calloc(n ? n : 1, sizeof *gets);
	struct kube_req *dry = calloc(n ? n : 1, sizeof *dry);
	size_t q = 0;
	for (size_t i = 0; i < n; i++) {
		if (!it[i].key)
			continue;
		gets[q] = (struct kube_req){.method = KUBE_GET, .path = kube_path(it[i].res, o->ns, it[i].name, NULL),
					    .data = &it[i]};
		stamp_and_check_unchanged(&it[i]); /* what apply would send, annotation included */
		apply_req(&dry[q], &it[i], o->ns);
		q++;
	}
	kube_set_dry_run(k, 0);
	kube_do(k, gets, q);
	kube_set_dry_run(k, 1);
	kube_do(k, dry, q);
	kube_set_dry_run(k, o->dry_run);
	int rc = 0;
	for (size_t j = 0; j < q; j++) {
		struct item *t = gets[j].data;
		json_t *was = NULL, *will = NULL;
		if (gets[j].status == 200)
			was = comparable(gets[j].response);
		else if (gets[j].status != 404) {
			set_err(err, errlen, "%s: %s", t->label, gets[j].err);
			rc = -1;
		}
		if (dry[j].status >= 200 && dry[j].status <= 299)
			will = comparable(dry[j].response);
		else if (dry[j].status == 404 && !was)
			will = comparable(t->obj); /* the namespace does not exist yet */
		else if (immutable_rejection(&dry[j])) {
			fprintf(out, "# %s would be recreated: %s\n", t->label, str(dry[j].response, "message"));
			will = comparable(t->obj);
		} else if (!rc) {
			set_err(err, errlen, "%s:%d: %s: %s", t->file, t->line, t->label, dry[j].err);
			rc = -1;
		}
		if (was && !owned(gets[j].response, o->set_name))
			fprintf(out, "# %s exists but is not managed by appdeploy (set %s): apply will take it over\n",
				t->label, o->set_name);
		char *ta = text_of(was), *tb = text_of(will);
		char la[600], lb[600];
		snprintf(la, sizeof la, "live/%s", was ? t->label : "(absent)");
		snprintf(lb, sizeof lb, "rendered/%s", t->label);
		if (!rc && sync_udiff(out, la, ta, lb, tb))
			(*changes)++;
		free(ta);
		free(tb);
		json_decref(was);
		json_decref(will);
		kube_req_clear(&gets[j]);
		kube_req_clear(&dry[j]);
	}
	free(gets);
	free(dry);
	for (size_t i = 0; i < n && !rc; i++)
		if (!it[i].key) {
			fprintf(out, "# %s: its kind comes from a CRD in this render; shown in full\n", it[i].label);
			char *tb = text_of(it[i].obj);
			char lb[600];
			snprintf(lb, sizeof lb, "rendered/%s", it[i].label);
			sync_udiff(out, "live/(absent)", "", lb, tb);
			(*changes)++;
			free(tb);
		}
	/* what prune would delete, and what is there without being ours */
	for (size_t i = 0; i < json_array_size(live) && !rc; i++) {
		json_t *l = json_array_get(live, i);
		if (system_object(l, str(l, "kind")))
			continue;
		char *key = live_key(l);
		int rendered_here = 0;
		for (size_t j = 0; j < n && !rendered_here; j++)
			rendered_here = it[j].key && key && !strcmp(it[j].key, key);
		free(key);
		if (rendered_here)
			continue;
		char *label = make_label(str(l, "apiVersion"), str(l, "kind"), meta_str(l, "name"));
		if (owned(l, o->set_name)) {
			if (o->prune) {
				json_t *c = comparable(l);
				char *ta = text_of(c);
				char la[600];
				snprintf(la, sizeof la, "live/%s", label);
				fprintf(out, "# %s would be pruned\n", label);
				sync_udiff(out, la, ta, "pruned/(absent)", "");
				(*changes)++;
				free(ta);
				json_decref(c);
			}
		} else {
			fprintf(out, "# unmanaged: %s (not rendered, no appdeploy labels of set %s: left alone)\n", label,
				o->set_name);
		}
		free(label);
	}
	json_decref(live);
	items_free(it, n);
	return rc;
}
