/* sync.c — apply ordering, checks before the first write, conflicts, safe recreation, inventory-based prune, diff and rollout waiting over kube.h. */
#include "sync.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "duration.h"
#include "errbuf.h"
#include "log.h"
#include "ownership.h"
#include "redact.h"
#include "render.h"
#include "sha256.h"
#include "synctoken.h"
#include "wait.h"
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
	json_t *live;    /* the live object before apply (owned by the item), NULL when none */
	int exists;      /* a live object of that name existed before apply (owned or not) */
	int looked;      /* live was fetched */
	int ok;          /* apply succeeded */
	char uid[64];    /* the object's uid after apply, for the inventory */
	json_t *entry;   /* an entry sync added itself (the sync token), owned; NULL for rendered ones */
};

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
	return own_key(api_version, kind, ns, name);
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

static int system_object(json_t *o, const char *kind)
{
	return own_system_object(o, kind);
}

static char *owner_selector(const char *set_name)
{
	return own_selector(set_name);
}

static int owned(json_t *o, const char *set_name)
{
	return own_labelled(o, set_name);
}

static void items_free(struct item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(it[i].label);
		free(it[i].key);
		json_decref(it[i].live);
		json_decref(it[i].entry);
	}
	free(it);
}

/* True when a CustomResourceDefinition among the n items defines kind in apiVersion's group and version. */
static int crd_defines(struct item *it, size_t n, const char *api_version, const char *kind)
{
	char g[256];
	group_of(api_version, g, sizeof g);
	const char *slash = strrchr(api_version, '/');
	const char *version = slash ? slash + 1 : api_version;
	for (size_t i = 0; i < n; i++) {
		if (!str(it[i].obj, "kind") || strcmp(str(it[i].obj, "kind"), "CustomResourceDefinition"))
			continue;
		json_t *spec = json_object_get(it[i].obj, "spec");
		const char *cg = str(spec, "group"), *ck = str(json_object_get(spec, "names"), "kind");
		if (!cg || !ck || strcmp(cg, g) || strcmp(ck, kind))
			continue;
		size_t j;
		json_t *v;
		json_array_foreach(json_object_get(spec, "versions"), j, v) {
			if (str(v, "name") && !strcmp(str(v, "name"), version))
				return 1;
		}
	}
	return 0;
}

/* Builds the items and resolves their kinds. Kinds that a rendered CRD will define may stay
 * unresolved (*pending counts them). Returns 0 or -1 with err filled. */
static int items_build(struct kube *k, json_t *rendered, const char *ns, const char *set, struct item **out,
		       size_t *nout, size_t *pending, struct sm_error *err)
{
	/* #18: synced source mode's token Secret joins the set when a rendered pod mounts it (synctoken.h) */
	json_t *token;
	if (synctoken_entry(k, rendered, ns, set, &token, err))
		return -1;
	size_t nr = json_array_size(rendered), n = nr + (token != NULL);
	struct item *it = calloc(n ? n : 1, sizeof *it);
	*pending = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *e = i < nr ? json_array_get(rendered, i) : token;
		it[i].entry = i < nr ? NULL : token;
		it[i].obj = json_object_get(e, "object");
		it[i].file = str(e, "file");
		it[i].line = (int)json_integer_value(json_object_get(e, "line"));
		it[i].name = meta_str(it[i].obj, "name");
		const char *kind = str(it[i].obj, "kind");
		it[i].phase = phase_of(kind);
		it[i].label = make_label(str(it[i].obj, "apiVersion"), kind, it[i].name);
	}
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const char *av = str(it[i].obj, "apiVersion"), *kind = str(it[i].obj, "kind");
		it[i].res = kube_find(k, av, kind);
		if (!it[i].res) {
			/* only a kind that a CRD of this render defines may appear later */
			if (crd_defines(it, n, av, kind)) {
				(*pending)++;
				continue;
			}
			sm_error_set(err, NULL, 0, 0, "%s:%d: the server has no kind %s in apiVersion %s; nothing was applied", it[i].file,
				it[i].line, kind, av);
			rc = -1;
			break;
		}
		const char *ons = meta_str(it[i].obj, "namespace");
		if (it[i].res->namespaced) {
			if (ons && *ons && strcmp(ons, ns)) {
				sm_error_set(err, NULL, 0, 0,
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
				sm_error_set(err, NULL, 0, 0, "%s:%d: %s is rendered twice (first by %s:%d)", it[i].file, it[i].line,
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
static int items_resolve_pending(struct kube *k, struct item *it, size_t n, const char *ns, double timeout, struct sm_error *err)
{
	const char **crds = calloc(n ? n : 1, sizeof *crds);
	size_t nc = 0;
	for (size_t i = 0; i < n; i++)
		if (it[i].ok && !strcmp(str(it[i].obj, "kind"), "CustomResourceDefinition"))
			crds[nc++] = it[i].name;
	struct sm_error werr = {.msg = ""};
	int waited = wait_crds_established(k, crds, nc, timeout > 0 ? timeout : 300, &werr);
	free(crds);
	if (kube_discover_refresh(k, err))
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
				sm_error_set(err, NULL, 0, 0, "%s:%d: %s needs customresourcedefinition %s: %s", it[i].file, it[i].line,
					it[i].label, crd,
					waited ? werr.msg : "it is established but does not serve this apiVersion");
			else
				sm_error_set(err, NULL, 0, 0,
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
static json_t *list_live(struct kube *k, const char *ns, const char *selector, struct sm_error *err)
{
	const struct kube_resource **res;
	size_t n = prunable(k, &res);
	json_t **items = calloc(n ? n : 1, sizeof *items);
	json_t *all = NULL;
	if (!kube_list_many(k, res, n, ns, selector, items, err)) {
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
		       strstr(msg, "cannot change") || strstr(msg, "updates to statefulset spec for fields other than"));
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

/* force: take fields another field manager owns (only after a first apply without it said which) */
static void apply_req(struct kube_req *r, struct item *it, const char *ns, int force)
{
	memset(r, 0, sizeof *r);
	r->method = KUBE_APPLY;
	r->path = kube_path(it->res, ns, it->name, force ? "fieldManager=" FIELD_MANAGER "&force=true" : "fieldManager=" FIELD_MANAGER);
	r->body = it->obj;
	r->data = it;
}

/* Waits until GET answers 404 (the deletion finished), up to timeout seconds. */
static int wait_gone(struct kube *k, const struct kube_resource *res, const char *ns, const char *name, double timeout)
{
	double start = mono_seconds();
	for (;;) {
		struct kube_req r = {.method = KUBE_GET, .path = kube_path(res, ns, name, NULL)};
		kube_do(k, &r, 1);
		long st = r.status;
		kube_req_clear(&r);
		if (st == 404)
			return 0;
		if (mono_seconds() - start > timeout)
			return -1;
		struct timespec ts = {0, 200000000L};
		nanosleep(&ts, NULL);
	}
}

static void set_uid(struct item *it, json_t *obj)
{
	const char *uid = meta_str(obj, "uid");
	if (uid)
		snprintf(it->uid, sizeof it->uid, "%s", uid);
}

/* Server errors about a Secret may quote its values: never print them. */
static const char *safe_err(struct item *it, const char *msg, char *buf, size_t len)
{
	return redact_text(it->obj, msg, buf, len);
}

/* A dry-run create of the object under another name: would the server accept it once the old one
 * is gone? Returns 0, or -1 with the server's answer in why. */
static int recreate_probe(struct kube *k, struct item *it, const char *ns, const struct sync_opts *o, char *why,
			  size_t whylen)
{
	char probe[64];
	snprintf(probe, sizeof probe, "%.40s-appdeploy-check", it->name);
	json_t *body = json_deep_copy(it->obj);
	json_t *md = json_object_get(body, "metadata");
	json_object_set_new(md, "name", json_string(probe));
	json_object_del(md, "resourceVersion");
	kube_set_dry_run(k, 1);
	struct kube_req c = {.method = KUBE_POST, .path = kube_path(it->res, ns, NULL, "fieldManager=" FIELD_MANAGER),
			     .body = body};
	kube_do(k, &c, 1);
	kube_set_dry_run(k, o->dry_run);
	int rc = c.status >= 200 && c.status <= 299 ? 0 : -1;
	if (rc) {
		char buf[1024];
		snprintf(why, whylen, "%s", safe_err(it, c.err, buf, sizeof buf));
	}
	kube_req_clear(&c);
	json_decref(body);
	return rc;
}

/* Deletes and re-applies an object the server refused to change in place, when its kind is safe to
 * recreate and a dry run shows the new one would be accepted. */
static int recreate(struct kube *k, struct item *it, const char *ns, const struct sync_opts *o, const char *why)
{
	char buf[2048];
	why = safe_err(it, why, buf, sizeof buf);
	if (!own_recreate_allowed(it->obj, it->live, it->res->group, it->res->kind)) {
		diag_error(o->diag, "%s:%d: %s: the server refuses to change it in place: %s. appdeploy does not delete a %s to "
			  "recreate it (what it holds would go with it): change it by hand, or annotate it %s: \"true\" "
			  "to allow recreation",
			  it->file, it->line, it->label, why, it->res->kind, OWN_ANNOTATION_RECREATE);
		return -1;
	}
	char perr[1024];
	if (recreate_probe(k, it, ns, o, perr, sizeof perr)) {
		diag_error(o->diag, "%s:%d: %s: the server refuses to change it in place (%s), and would not accept it as a new "
			  "object either: %s; the live object was left as it is",
			  it->file, it->line, it->label, why, perr);
		return -1;
	}
	if (o->dry_run) {
		fprintf(o->out, "%s would be recreated (dry run): %s\n", it->label, why);
		return 0;
	}
	fprintf(o->out, "%s: recreating it, the server refuses to change it in place: %s\n", it->label, why);
	struct kube_req d = {.method = KUBE_DELETE, .path = kube_path(it->res, ns, it->name, "propagationPolicy=Background")};
	kube_do(k, &d, 1);
	if ((d.status < 200 || d.status > 299) && d.status != 404) {
		diag_error(o->diag, "%s:%d: %s: delete for recreation failed: %s", it->file, it->line, it->label, d.err);
		kube_req_clear(&d);
		return -1;
	}
	kube_req_clear(&d);
	if (wait_gone(k, it->res, ns, it->name, 60)) {
		diag_error(o->diag, "%s:%d: %s: still there 60s after deleting it for recreation", it->file, it->line, it->label);
		return -1;
	}
	struct kube_req a;
	apply_req(&a, it, ns, 1);
	kube_do(k, &a, 1);
	int rc = a.status >= 200 && a.status <= 299 ? 0 : -1;
	if (rc)
		diag_error(o->diag, "%s:%d: %s: apply after recreation failed: %s", it->file, it->line, it->label,
			  safe_err(it, a.err, buf, sizeof buf));
	else {
		fprintf(o->out, "%s recreated\n", it->label);
		set_uid(it, a.response);
	}
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

/* A 409 from server-side apply naming fields other field managers own: prints each field and its
 * manager. Returns 1 when r is such a conflict. */
static int field_conflict(struct item *it, struct kube_req *r, const struct sync_opts *o)
{
	json_t *causes = json_object_get(json_object_get(r->response, "details"), "causes");
	if (r->status != 409 || !json_array_size(causes))
		return 0;
	size_t i;
	json_t *c;
	int any = 0;
	json_array_foreach(causes, i, c) {
		const char *reason = str(c, "reason"), *field = str(c, "field"), *msg = str(c, "message");
		if (!reason || strcmp(reason, "FieldManagerConflict"))
			continue;
		/* message: conflict with "MANAGER"[ using apps/v1] */
		char mgr[256] = "another field manager";
		const char *q1 = msg ? strchr(msg, '"') : NULL, *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
		if (q1 && q2)
			snprintf(mgr, sizeof mgr, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
		if (o->no_force_conflicts)
			diag_error(o->diag, "%s:%d: %s: %s is owned by field manager \"%s\": not taking it (--no-force-conflicts); "
				  "leave it out of the template, or apply without --no-force-conflicts",
				  it->file, it->line, it->label, field ? field : "a field", mgr);
		else
			fprintf(o->out, "%s: taking %s from field manager \"%s\" (the render wins; --no-force-conflicts stops "
					"instead)\n",
				it->label, field ? field : "a field", mgr);
		any = 1;
	}
	return any;
}

/* The outcome of one apply request. Returns 1 when it failed. */
static int apply_result(struct kube *k, struct item *it, struct kube_req *r, const struct sync_opts *o)
{
	const char *dry = o->dry_run ? " (dry run)" : "";
	char buf[2048];
	if (r->status >= 200 && r->status <= 299) {
		const char *what = r->status == 201 ? "created" : same_object(it->live, r->response) ? "unchanged" : "configured";
		if (o->dry_run && !strcmp(what, "configured") && !it->exists)
			what = "created";
		fprintf(o->out, "%s %s%s\n", it->label, what, dry);
		set_uid(it, r->response);
		it->ok = 1;
		return 0;
	}
	if (immutable_rejection(r)) {
		if (recreate(k, it, o->ns, o, str(r->response, "message")))
			return 1;
		it->ok = 1;
		return 0;
	}
	diag_error(o->diag, "%s:%d: %s: %s", it->file, it->line, it->label, safe_err(it, r->err, buf, sizeof buf));
	return 1;
}

/* Applies one phase's items concurrently: without force first, then, for the objects whose fields
 * another manager owns (printed), with force unless o->no_force_conflicts. Returns the number of
 * failures. */
static size_t apply_phase(struct kube *k, struct item **v, size_t n, const struct sync_opts *o)
{
	if (!n)
		return 0;
	struct kube_req *reqs = calloc(n, sizeof *reqs), *forced = calloc(n, sizeof *forced);
	const char *dry = o->dry_run ? " (dry run)" : "";
	size_t q = 0, nf = 0;
	for (size_t i = 0; i < n; i++) {
		if (stamp_and_check_unchanged(v[i]) && !o->force) {
			fprintf(o->out, "%s unchanged%s\n", v[i]->label, dry);
			set_uid(v[i], v[i]->live);
			v[i]->ok = 1;
			continue;
		}
		apply_req(&reqs[q++], v[i], o->ns, 0);
	}
	kube_do(k, reqs, q);
	size_t failed = 0;
	for (size_t i = 0; i < q; i++) {
		struct item *it = reqs[i].data;
		if (field_conflict(it, &reqs[i], o)) {
			if (o->no_force_conflicts)
				failed++;
			else
				apply_req(&forced[nf++], it, o->ns, 1);
		} else
			failed += (size_t)apply_result(k, it, &reqs[i], o);
		kube_req_clear(&reqs[i]);
	}
	kube_do(k, forced, nf);
	for (size_t i = 0; i < nf; i++) {
		failed += (size_t)apply_result(k, forced[i].data, &forced[i], o);
		kube_req_clear(&forced[i]);
	}
	free(reqs);
	free(forced);
	return failed;
}

static const struct kube_resource *core(struct kube *k, const char *kind)
{
	return kube_find(k, "v1", kind);
}

/* Reads the target namespace before anything is written: *missing when it does not exist. A
 * namespace being deleted (Terminating) refuses every new object, so it fails here, with err filled.
 * Returns 0 or -1. */
static int namespace_check(struct kube *k, const struct sync_opts *o, int *missing, struct sm_error *err)
{
	const struct kube_resource *nsr = core(k, "Namespace");
	*missing = 0;
	if (!nsr) {
		sm_error_set(err, NULL, 0, 0, "the server has no v1 Namespace kind; nothing was applied");
		return -1;
	}
	struct kube_req r = {.method = KUBE_GET, .path = kube_path(nsr, NULL, o->ns, NULL)};
	kube_do(k, &r, 1);
	int rc = 0;
	if (r.status == 404)
		*missing = 1;
	else if (r.status != 200) {
		sm_error_set(err, NULL, 0, 0, "namespace %s: %s; nothing was applied", o->ns, r.err);
		rc = -1;
	} else {
		const char *phase = str(json_object_get(r.response, "status"), "phase");
		if (phase && !strcmp(phase, "Terminating")) {
			const char *since = meta_str(r.response, "deletionTimestamp");
			sm_error_set(err, NULL, 0, 0,
				"namespace %s is Terminating (deleted%s%s): the server refuses new objects in it; nothing was "
				"applied. Wait until it is gone (kubectl get namespace %s), or apply to another namespace",
				o->ns, since ? " at " : "", since ? since : "", o->ns);
			rc = -1;
		}
	}
	kube_req_clear(&r);
	return rc;
}

/* Creates the namespace known to be missing unless the render has it. Returns 0, or -1 after logging. */
static int ensure_namespace(struct kube *k, const struct sync_opts *o, int rendered)
{
	const struct kube_resource *nsr = core(k, "Namespace");
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
		diag_error(o->diag, "creating namespace %s: %s", o->ns, c.err);
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
		diag_error(o->diag, "the server has no v1 ServiceAccount kind");
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
			diag_error(o->diag, "serviceaccount/default: %s", g.err);
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
			diag_error(o->diag, "serviceaccount/default: %s", p.err);
		kube_req_clear(&p);
		json_decref(patch);
		if (st == 409)
			continue;
		rc = st == 200 ? 0 : -1;
		break;
	}
	return rc;
}

/* ---------------------------------------------------------------- ownership checks and prune */

/* GETs the live copy of the items not looked up yet (all absent when the namespace is missing),
 * then refuses the ones another owner has, unless o->adopt. Returns the number refused (each
 * printed). out_notes: where diff prints instead of failing (NULL for apply). */
static size_t lookup_live(struct kube *k, struct item **v, size_t m, const struct sync_opts *o,
			  const struct own_inventory *inv, int ns_missing, FILE *notes)
{
	struct kube_req *reqs = calloc(m ? m : 1, sizeof *reqs);
	size_t q = 0;
	for (size_t i = 0; i < m; i++) {
		if (v[i]->looked || !v[i]->key)
			continue;
		v[i]->looked = 1;
		if (ns_missing && v[i]->res->namespaced)
			continue;
		reqs[q] = (struct kube_req){.method = KUBE_GET, .path = kube_path(v[i]->res, o->ns, v[i]->name, NULL),
					    .data = v[i]};
		q++;
	}
	/* reads (dry run or not); a kind with many objects is read with one list instead of a GET each */
	const struct kube_resource **res = calloc(q ? q : 1, sizeof *res);
	const char **names = calloc(q ? q : 1, sizeof *names);
	for (size_t j = 0; j < q; j++) {
		res[j] = ((struct item *)reqs[j].data)->res;
		names[j] = ((struct item *)reqs[j].data)->name;
	}
	kube_get_many(k, res, names, q, o->ns, reqs);
	free(res);
	free(names);
	size_t refused = 0;
	for (size_t j = 0; j < q; j++) {
		struct item *it = reqs[j].data;
		if (reqs[j].status == 200) {
			json_t *l = reqs[j].response;
			json_object_set_new(l, "apiVersion", json_string(it->res->api_version));
			json_object_set_new(l, "kind", json_string(it->res->kind));
			it->live = json_incref(l);
			it->exists = 1;
			char owner[512];
			enum own_state st = own_classify(l, o->set_name, inv, owner, sizeof owner);
			/* the namespace's default ServiceAccount belongs to nobody: rendering it is how one sets it;
			 * so does the namespace applied to, which prune never deletes */
			int target_ns = !strcmp(it->res->kind, "Namespace") && !*it->res->group && !strcmp(it->name, o->ns);
			if (st != OWN_OURS && target_ns && !notes)
				fprintf(o->out, "namespace/%s: the namespace applied to, now labelled for set %s (never pruned)\n",
					o->ns, o->set_name);
			if (st != OWN_OURS && !system_object(l, it->res->kind) && !target_ns) {
				if (notes)
					fprintf(notes, "# %s exists and belongs to %s, not to set %s: apply refuses it (--adopt takes "
						       "it over)\n",
						it->label, owner, o->set_name);
				else if (o->adopt)
					fprintf(o->out, "%s adopted from %s into set %s (--adopt)\n", it->label, owner, o->set_name);
				else {
					diag_error(o->diag, "%s:%d: %s already exists and belongs to %s, not to set %s: not taking it over. "
						  "Rename it in the template, delete it, or pass --adopt to make it this set's",
						  it->file, it->line, it->label, owner, o->set_name);
					refused++;
				}
			}
		} else if (reqs[j].status != 404) {
			diag_error(o->diag, "%s:%d: %s: %s", it->file, it->line, it->label, reqs[j].err);
			refused++;
		}
		kube_req_clear(&reqs[j]);
	}
	free(reqs);
	return refused;
}

/* The set's prune plan (ownership.c decides; sync only deletes). */
static int prune_plan(struct kube *k, struct item *it, size_t n, const struct own_inventory *inv,
		      const struct sync_opts *o, struct own_cand **out, size_t *nout, struct sm_error *err)
{
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	size_t nk = 0;
	for (size_t i = 0; i < n; i++)
		if (it[i].key)
			keys[nk++] = it[i].key;
	int rc = own_prune_plan(k, inv, keys, nk, o->ns, o->set_name, o->out, out, nout, err);
	free(keys);
	return rc;
}

/* Deletes the candidates; pruned[i] is set for each one deleted. Returns 0 or -1 after logging. */
static int prune(struct kube *k, struct own_cand *c, size_t m, const struct sync_opts *o, int *pruned)
{
	struct kube_req *reqs = calloc(m ? m : 1, sizeof *reqs);
	size_t q = 0;
	for (size_t i = 0; i < m; i++) {
		if (!c[i].live) {
			pruned[i] = 1;
			continue;
		}
		reqs[q].method = KUBE_DELETE;
		reqs[q].path = kube_path(c[i].res, c[i].res->namespaced ? o->ns : NULL, c[i].e->name,
					 "propagationPolicy=Background");
		reqs[q].data = &c[i];
		q++;
	}
	kube_do(k, reqs, q);
	int rc = 0;
	for (size_t j = 0; j < q; j++) {
		size_t i = (size_t)((struct own_cand *)reqs[j].data - c);
		char *label = make_label(c[i].res->api_version, c[i].res->kind, c[i].e->name);
		if ((reqs[j].status >= 200 && reqs[j].status <= 299) || reqs[j].status == 404) {
			fprintf(o->out, "%s pruned%s\n", label, o->dry_run ? " (dry run)" : "");
			pruned[i] = 1;
		} else {
			diag_error(o->diag, "prune %s: %s", label, reqs[j].err);
			rc = -1;
		}
		free(label);
		kube_req_clear(&reqs[j]);
	}
	free(reqs);
	return rc;
}

/* Before any write: objects of the set that carry its labels but no inventory lists (applied by an
 * appdeploy without inventories) are said to be left alone this time. */
static void note_unlisted(struct kube *k, struct item *it, size_t n, const struct sync_opts *o)
{
	char *sel = owner_selector(o->set_name);
	struct sm_error lerr;
	json_t *live = list_live(k, o->ns, sel, &lerr);
	free(sel);
	size_t left = 0;
	for (size_t i = 0; i < json_array_size(live); i++) {
		json_t *l = json_array_get(live, i);
		if (system_object(l, str(l, "kind")))
			continue;
		char *key = live_key(l);
		int rendered = 0;
		for (size_t j = 0; j < n && !rendered; j++)
			rendered = it[j].key && key && !strcmp(it[j].key, key);
		free(key);
		if (!rendered) {
			char *label = make_label(str(l, "apiVersion"), str(l, "kind"), meta_str(l, "name"));
			fprintf(o->out, "# %s carries the labels of set %s but no inventory lists it: left alone (delete it by "
					"hand if it is no longer wanted)\n",
				label, o->set_name);
			free(label);
			left++;
		}
	}
	if (left)
		fprintf(o->out, "# set %s had no inventory yet (applied by an older appdeploy): this apply records one; "
				"nothing is pruned until the next apply\n",
			o->set_name);
	json_decref(live);
}

/* The inventory to record: the old entries (minus pruned), plus every rendered object. */
static void inventory_entries(struct item *it, size_t n, const struct own_inventory *inv, struct own_cand *c, size_t nc,
			      const int *pruned, struct own_entry **v, size_t *nv)
{
	*v = NULL;
	*nv = 0;
	for (size_t i = 0; i < inv->n; i++) {
		int gone = 0;
		for (size_t j = 0; j < nc && !gone; j++)
			gone = pruned && pruned[j] && c[j].e == &inv->v[i];
		if (!gone)
			own_entries_add(v, nv, inv->v[i].api_version, inv->v[i].kind, inv->v[i].ns, inv->v[i].name,
					inv->v[i].uid);
	}
	for (size_t i = 0; i < n; i++)
		if (it[i].key)
			own_entries_add(v, nv, it[i].res->api_version, it[i].res->kind,
					it[i].res->namespaced ? meta_str(it[i].obj, "namespace") : "", it[i].name, it[i].uid);
}

static int save_inventory(struct kube *k, struct item *it, size_t n, const struct own_inventory *inv,
			  struct own_cand *c, size_t nc, const int *pruned, const struct sync_opts *o, const char *origin)
{
	if (o->dry_run)
		return 0;
	struct own_entry *v;
	size_t nv;
	inventory_entries(it, n, inv, c, nc, pruned, &v, &nv);
	struct sm_error err;
	int written = 0;
	int rc = own_inventory_save(k, o->ns, o->set_name, origin, v, nv, inv, &written, &err);
	if (rc)
		diag_error(o->diag, "%.1023s", err.msg); /* as its 1024-byte buffer cut it */
	else if (written && !inv->found) {
		char *name = own_inventory_name(o->set_name);
		fprintf(o->out, "configmap/%s created (the inventory of set %s)\n", name, o->set_name);
		free(name);
	}
	own_entries_free(v, nv);
	return rc;
}

/* Checks the inventory's origin against ours. Returns 0, or -1 with err filled. */
static int origin_check(const struct own_inventory *inv, const char *origin, const struct sync_opts *o, struct sm_error *err)
{
	if (!inv->found || !strcmp(inv->origin, origin))
		return 0;
	if (o->take_over) {
		fprintf(o->out, "set %s taken over from %s (--take-over)\n", o->set_name, inv->origin);
		return 0;
	}
	sm_error_set(err, NULL, 0, 0,
		"set %s in namespace %s was applied from %s, not from here (%s): nothing was applied or pruned. Give "
		"this folder its own set with --set NAME, or pass --take-over to make this folder the set's source",
		o->set_name, o->ns, inv->origin, origin);
	return -1;
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

int sync_apply(struct kube *k, json_t *rendered, const struct sync_opts *o, struct sm_error *err)
{
	kube_set_dry_run(k, o->dry_run);
	if (!json_array_size(rendered) && !o->allow_empty) {
		sm_error_set(err, NULL, 0, 0,
			"the render is empty: nothing was applied or pruned (--allow-empty applies it, pruning every object of "
			"set %s)",
			o->set_name);
		return -1;
	}
	if (kube_discover(k, err))
		return -1;
	struct item *it;
	size_t n, pending;
	if (items_build(k, rendered, o->ns, o->set_name, &it, &n, &pending, err))
		return -1;
	/* --- every check before the first write --- */
	int ns_missing = 0;
	if (namespace_check(k, o, &ns_missing, err)) {
		items_free(it, n);
		return -1;
	}
	int rendered_ns = 0;
	for (size_t i = 0; i < n; i++)
		rendered_ns |= it[i].res && !strcmp(it[i].res->kind, "Namespace") && !strcmp(it[i].name, o->ns);
	char *origin = own_origin(o->dir ? o->dir : ".");
	struct own_inventory inv = {0};
	if (!ns_missing && own_inventory_load(k, o->ns, o->set_name, &inv, err)) {
		free(origin);
		items_free(it, n);
		return -1;
	}
	if (origin_check(&inv, origin, o, err)) {
		own_inventory_free(&inv);
		free(origin);
		items_free(it, n);
		return -1;
	}
	struct item **v = calloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = &it[i];
	size_t refused = lookup_live(k, v, n, o, &inv, ns_missing, NULL);
	if (refused) {
		sm_error_set(err, NULL, 0, 0, "%zu object%s belong%s to someone else: nothing was applied or pruned", refused,
			refused == 1 ? "" : "s", refused == 1 ? "s" : "");
		free(v);
		own_inventory_free(&inv);
		free(origin);
		items_free(it, n);
		return -1;
	}
	if (!inv.found && !ns_missing && o->prune)
		note_unlisted(k, it, n, o);
	/* --- writes --- */
	if (ns_missing && ensure_namespace(k, o, rendered_ns)) {
		sm_error_set(err, NULL, 0, 0, "namespace %s is not usable; nothing was applied", o->ns);
		free(v);
		own_inventory_free(&inv);
		free(origin);
		items_free(it, n);
		return -1;
	}
	size_t failed = 0;
	/* the inventory lists what we are about to create before we create it: an apply that stops
	 * midway still leaves everything it made prunable */
	if (!rendered_ns || !ns_missing)
		failed += (size_t)(save_inventory(k, it, n, &inv, NULL, 0, NULL, o, origin) != 0);
	for (int phase = 0; phase < NPHASES && !failed; phase++) {
		if (phase == 2 && pending) {
			/* CRDs are in: their kinds appear in discovery once established */
			if (o->dry_run) {
				for (size_t i = 0; i < n; i++)
					if (!it[i].key) {
						fprintf(o->out, "%s skipped (dry run: its CRD is not installed yet)\n", it[i].label);
						it[i].ok = 1;
					}
			} else if (items_resolve_pending(k, it, n, o->ns, o->wait_timeout, err)) {
				diag_error(o->diag, "%s", err->msg);
				failed++;
			} else {
				size_t m = 0;
				for (size_t i = 0; i < n; i++)
					if (!it[i].looked)
						v[m++] = &it[i];
				failed += lookup_live(k, v, m, o, &inv, 0, NULL);
			}
			if (failed)
				break;
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
		if (phase == 0 && rendered_ns && ns_missing && !failed)
			failed += (size_t)(save_inventory(k, it, n, &inv, NULL, 0, NULL, o, origin) != 0);
	}
	free(v);
	int rc = 0;
	if (failed) {
		sm_error_set(err, NULL, 0, 0, "%zu object%s failed to apply; nothing was pruned", failed, failed == 1 ? "" : "s");
		rc = -1;
	}
	if (!rc && merge_pull_secrets(k, o)) {
		sm_error_set(err, NULL, 0, 0, "could not merge image pull secrets into serviceaccount/default; nothing was pruned");
		rc = -1;
	}
	struct own_cand *c = NULL;
	size_t nc = 0;
	int *pruned = NULL;
	if (!rc && o->prune && inv.found) {
		struct sm_error perr = {.msg = ""};
		int prc = prune_plan(k, it, n, &inv, o, &c, &nc, &perr);
		pruned = calloc(nc ? nc : 1, sizeof *pruned);
		if (prune(k, c, nc, o, pruned)) {
			sm_error_set(err, NULL, 0, 0, "pruning failed");
			rc = -1;
		}
		if (prc) {
			sm_error_set(err, NULL, 0, 0, "%.1023s", perr.msg);
			rc = -1;
		}
	}
	if (!failed && save_inventory(k, it, n, &inv, c, nc, pruned, o, origin) && !rc) {
		sm_error_set(err, NULL, 0, 0, "could not record the inventory of set %s", o->set_name);
		rc = -1;
	}
	free(pruned);
	own_cands_free(c, nc);
	if (!rc && o->wait && !o->dry_run && wait_rollouts(k, it, n, o)) {
		sm_error_set(err, NULL, 0, 0, "rollout did not complete");
		rc = -1;
	}
	own_inventory_free(&inv);
	free(origin);
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

/* Writes the diff of one object (either side may be NULL), Secret values masked. Returns 1 when
 * they differ. */
static int diff_one(FILE *out, const char *label, json_t *was, json_t *will, const char *label_b)
{
	json_t *a = was ? comparable(was) : NULL, *b = will ? comparable(will) : NULL;
	redact_pair(a, b);
	char *ta = text_of(a), *tb = text_of(b);
	char la[600], lb[600];
	snprintf(la, sizeof la, "live/%s", was ? label : "(absent)");
	snprintf(lb, sizeof lb, "%s/%s", label_b, will ? label : "(absent)");
	int d = sync_udiff(out, la, ta, lb, tb);
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
	return d;
}

int sync_diff(struct kube *k, json_t *rendered, const struct sync_opts *o, FILE *out, int *changes, struct sm_error *err)
{
	*changes = 0;
	if (!json_array_size(rendered) && !o->allow_empty) {
		sm_error_set(err, NULL, 0, 0, "the render is empty: apply would refuse it (--allow-empty shows what it would prune)");
		return -1;
	}
	if (kube_discover(k, err))
		return -1;
	struct item *it;
	size_t n, pending;
	if (items_build(k, rendered, o->ns, o->set_name, &it, &n, &pending, err))
		return -1;
	int ns_missing = 0;
	if (namespace_check(k, o, &ns_missing, err)) {
		items_free(it, n);
		return -1;
	}
	char *origin = own_origin(o->dir ? o->dir : ".");
	struct own_inventory inv = {0};
	if (!ns_missing && own_inventory_load(k, o->ns, o->set_name, &inv, err)) {
		free(origin);
		items_free(it, n);
		return -1;
	}
	int rc = 0;
	if (inv.found && strcmp(inv.origin, origin) && !o->take_over) {
		sm_error_set(err, NULL, 0, 0, "set %s in namespace %s was applied from %s, not from here (%s): apply would refuse it "
				     "(--set NAME for a distinct set, --take-over to take it)",
			o->set_name, o->ns, inv.origin, origin);
		rc = -1;
	}
	/* everything in the namespace, to find both what we own and what we do not */
	json_t *live = rc ? NULL : ns_missing ? json_array() : list_live(k, o->ns, NULL, err);
	if (!live) {
		own_inventory_free(&inv);
		free(origin);
		items_free(it, n);
		return -1;
	}
	struct item **v = calloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = &it[i];
	*changes += (int)lookup_live(k, v, n, o, &inv, ns_missing, o->adopt ? NULL : out);
	free(v);
	struct kube_req *dry = calloc(n ? n : 1, sizeof *dry);
	size_t q = 0;
	for (size_t i = 0; i < n; i++) {
		if (!it[i].key || (ns_missing && it[i].res->namespaced))
			continue;
		stamp_and_check_unchanged(&it[i]); /* what apply would send, annotation included */
		apply_req(&dry[q], &it[i], o->ns, !o->no_force_conflicts);
		q++;
	}
	kube_set_dry_run(k, 1);
	kube_do(k, dry, q);
	kube_set_dry_run(k, o->dry_run);
	for (size_t j = 0; j < q && !rc; j++) {
		struct item *t = dry[j].data;
		json_t *will = NULL;
		char buf[2048];
		if (dry[j].status >= 200 && dry[j].status <= 299)
			will = json_incref(dry[j].response);
		else if (dry[j].status == 404 && !t->live)
			will = json_incref(t->obj); /* the namespace does not exist yet */
		else if (immutable_rejection(&dry[j])) {
			const char *why = safe_err(t, str(dry[j].response, "message"), buf, sizeof buf);
			if (own_recreate_allowed(t->obj, t->live, t->res->group, t->res->kind))
				fprintf(out, "# %s would be recreated: %s\n", t->label, why);
			else
				fprintf(out, "# %s: apply would fail: the server refuses to change it in place and a %s is not "
					     "recreated without the %s annotation: %s\n",
					t->label, t->res->kind, OWN_ANNOTATION_RECREATE, why);
			will = json_incref(t->obj);
		} else if (dry[j].status == 409 && o->no_force_conflicts) {
			/* only without force: apply would stop here (the message names fields and managers) */
			fprintf(out, "# %s: apply --no-force-conflicts would stop: %s\n", t->label,
				safe_err(t, dry[j].err, buf, sizeof buf));
			/* the change itself: what a forced apply would make of it */
			struct kube_req f;
			apply_req(&f, t, o->ns, 1);
			kube_set_dry_run(k, 1);
			kube_do(k, &f, 1);
			kube_set_dry_run(k, o->dry_run);
			will = json_incref(f.status >= 200 && f.status <= 299 ? f.response : t->obj);
			kube_req_clear(&f);
		} else {
			sm_error_set(err, NULL, 0, 0, "%s:%d: %s: %s", t->file, t->line, t->label, safe_err(t, dry[j].err, buf, sizeof buf));
			rc = -1;
		}
		if (!rc && diff_one(out, t->label, t->live, will, "rendered"))
			(*changes)++;
		json_decref(will);
	}
	for (size_t j = 0; j < q; j++)
		kube_req_clear(&dry[j]);
	free(dry);
	for (size_t i = 0; i < n && !rc; i++)
		if (!it[i].key || (ns_missing && it[i].res->namespaced && !it[i].live)) {
			if (!it[i].key)
				fprintf(out, "# %s: its kind comes from a CRD in this render; shown in full\n", it[i].label);
			if (diff_one(out, it[i].label, NULL, it[i].obj, "rendered"))
				(*changes)++;
		}
	/* what prune would delete */
	if (!rc && o->prune && inv.found) {
		struct own_cand *c;
		size_t nc;
		struct sm_error perr = {.msg = ""};
		int prc = prune_plan(k, it, n, &inv, o, &c, &nc, &perr);
		for (size_t i = 0; i < nc; i++) {
			if (!c[i].live)
				continue;
			char *label = make_label(c[i].res->api_version, c[i].res->kind, c[i].e->name);
			fprintf(out, "# %s would be pruned\n", label);
			diff_one(out, label, c[i].live, NULL, "pruned");
			(*changes)++;
			free(label);
		}
		own_cands_free(c, nc);
		if (prc) {
			sm_error_set(err, NULL, 0, 0, "%.1023s", perr.msg);
			rc = -1;
		}
	}
	/* what is there without being ours */
	for (size_t i = 0; i < json_array_size(live) && !rc; i++) {
		json_t *l = json_array_get(live, i);
		if (system_object(l, str(l, "kind")))
			continue;
		if (str(json_object_get(json_object_get(l, "metadata"), "labels"), OWN_LABEL_INVENTORY))
			continue; /* an inventory */
		char *key = live_key(l);
		int rendered_here = 0;
		for (size_t j = 0; j < n && !rendered_here; j++)
			rendered_here = it[j].key && key && !strcmp(it[j].key, key);
		int listed = own_entries_find(inv.v, inv.n, key) != NULL;
		free(key);
		if (rendered_here)
			continue;
		char *label = make_label(str(l, "apiVersion"), str(l, "kind"), meta_str(l, "name"));
		if (owned(l, o->set_name)) {
			if (!listed)
				fprintf(out, "# %s carries the labels of set %s but no inventory lists it: apply leaves it alone\n",
					label, o->set_name);
		} else {
			fprintf(out, "# unmanaged: %s (not rendered, no appdeploy labels of set %s: left alone)\n", label,
				o->set_name);
		}
		free(label);
	}
	json_decref(live);
	own_inventory_free(&inv);
	free(origin);
	items_free(it, n);
	return rc;
}
