/* chart_render.c — `helm template`: the render values (.Release .Chart .Capabilities .Template .Files .Subcharts), templates in Helm's order, manifests split and sorted, hooks last. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "tmpl.h"
#include "sprig.h"
#include "tmpl_node.h"
#include "yamlval.h"

/* Helm 3.17.2's defaults (chartutil.DefaultCapabilities, built with client-go 0.32). */
#define DEFAULT_KUBE_VERSION "v1.32.0"
static const char *const DEFAULT_API_VERSIONS[] = {
	"v1", "admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1",
	"admissionregistration.k8s.io/v1beta1", "internal.apiserver.k8s.io/v1alpha1", "apps/v1", "apps/v1beta1",
	"apps/v1beta2", "authentication.k8s.io/v1", "authentication.k8s.io/v1alpha1", "authentication.k8s.io/v1beta1",
	"authorization.k8s.io/v1", "authorization.k8s.io/v1beta1", "autoscaling/v1", "autoscaling/v2",
	"autoscaling/v2beta1", "autoscaling/v2beta2", "batch/v1", "batch/v1beta1", "certificates.k8s.io/v1",
	"certificates.k8s.io/v1beta1", "certificates.k8s.io/v1alpha1", "coordination.k8s.io/v1alpha2",
	"coordination.k8s.io/v1beta1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "discovery.k8s.io/v1beta1",
	"events.k8s.io/v1", "events.k8s.io/v1beta1", "extensions/v1beta1", "flowcontrol.apiserver.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta1", "flowcontrol.apiserver.k8s.io/v1beta2",
	"flowcontrol.apiserver.k8s.io/v1beta3", "networking.k8s.io/v1", "networking.k8s.io/v1alpha1",
	"networking.k8s.io/v1beta1", "node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1", "policy/v1",
	"policy/v1beta1", "rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1",
	"rbac.authorization.k8s.io/v1alpha1", "resource.k8s.io/v1beta1", "resource.k8s.io/v1alpha3",
	"scheduling.k8s.io/v1alpha1", "scheduling.k8s.io/v1beta1", "scheduling.k8s.io/v1", "storage.k8s.io/v1beta1",
	"storage.k8s.io/v1", "storage.k8s.io/v1alpha1", "storagemigration.k8s.io/v1alpha1",
	"apiextensions.k8s.io/v1beta1", "apiextensions.k8s.io/v1",
};

/* Helm's releaseutil.InstallOrder. */
static const char *const INSTALL_ORDER[] = {
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
	"ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
	"Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
	"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
};

static const char *const HOOK_EVENTS[] = {
	"pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade",
	"post-upgrade", "pre-rollback", "post-rollback", "test",
};

/* ---- .Files ---- */

static json_t *recv_files(struct tmpl_call *c) { return c->recv; }

static const struct tobj_type FILES_TYPE;

static int files_get(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *v = json_object_get(recv_files(c), json_string_value(a[0]));
	return tf_ret_str(c, json_string_value(v), json_string_length(v));
}

static int files_get_bytes(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *v = json_object_get(recv_files(c), json_string_value(a[0]));
	json_t *out = json_array();
	for (size_t i = 0; v && i < json_string_length(v); i++)
		json_array_append_new(out, json_integer((unsigned char)json_string_value(v)[i]));
	return tf_ret(c, out);
}

/* gobwas/glob with '/' as separator: * and ? stay within a path element, ** crosses them, {a,b} alternates. */
static int glob_match(const char *p, const char *s)
{
	for (;;) {
		switch (*p) {
		case 0: return *s == 0;
		case '*':
			if (p[1] == '*') {
				for (const char *t = s;; t++) {
					if (glob_match(p + 2, t))
						return 1;
					if (!*t)
						return 0;
				}
			}
			for (const char *t = s;; t++) {
				if (glob_match(p + 1, t))
					return 1;
				if (!*t || *t == '/')
					return 0;
			}
		case '?':
			if (!*s || *s == '/')
				return 0;
			p++, s++;
			continue;
		case '{': {
			const char *close = strchr(p, '}');
			if (!close)
				goto literal;
			const char *alt = p + 1;
			for (;;) {
				const char *comma = alt;
				while (comma < close && *comma != ',')
					comma++;
				size_t al = (size_t)(comma - alt);
				if (!strncmp(s, alt, al)) {
					char rest[4096];
					snprintf(rest, sizeof rest, "%s", close + 1);
					if (glob_match(rest, s + al))
						return 1;
				}
				if (comma >= close)
					return 0;
				alt = comma + 1;
			}
		}
		case '[': {
			const char *close = strchr(p + 1, ']');
			if (!close)
				goto literal;
			char cls[512];
			snprintf(cls, sizeof cls, "%.*s", (int)(close - p + 1), p);
			if (cls[1] == '!')
				cls[1] = '^';
			char one[2] = {*s, 0};
			if (!*s || *s == '/' || fnmatch(cls, one, 0))
				return 0;
			p = close + 1, s++;
			continue;
		}
		case '\\':
			if (p[1])
				p++;
			/* fallthrough */
		default:
		literal:
			if (*p != *s)
				return 0;
			p++, s++;
		}
	}
}

static int files_glob(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(recv_files(c), k, v) if (glob_match(json_string_value(a[0]), k)) json_object_set(out, k, v);
	tmpl_set_bind(tmpl_exec_set(c->st), out, &FILES_TYPE, NULL);
	return tf_ret(c, out);
}

static int files_lines(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *v = json_object_get(recv_files(c), json_string_value(a[0]));
	json_t *out = json_array();
	if (!v || !json_string_length(v))
		return tf_ret(c, out);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (s[len - 1] == '\n')
		len--;
	const char *p = s, *end = s + len;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		json_array_append_new(out, json_stringn_nocheck(p, (size_t)((nl ? nl : end) - p)));
		if (!nl)
			break;
		p = nl + 1;
	}
	return tf_ret(c, out);
}

/* AsConfig / AsSecrets: toYaml of {base name: content (or its base64)}. */
static int files_as(struct tmpl_call *c, int secrets)
{
	json_t *m = json_object();
	const char *k;
	json_t *v;
	const struct tmpl_func *b64 = tmpl_find_func(tmpl_exec_set(c->st), "b64enc"), *to_yaml = tmpl_find_func(tmpl_exec_set(c->st), "toYaml");
	json_object_foreach(recv_files(c), k, v)
	{
		const char *base = strrchr(k, '/');
		base = base ? base + 1 : k;
		if (secrets) {
			struct tmpl_call sub = {.st = c->st, .name = "b64enc"};
			json_t *arg = v;
			if (b64->fn(&sub, &arg, 1) == 0)
				json_object_set_new(m, base, sub.result);
		} else {
			json_object_set(m, base, v);
		}
	}
	if (!json_object_size(m)) {
		json_decref(m);
		return tf_ret_str(c, "", 0);
	}
	struct tmpl_call sub = {.st = c->st, .name = "toYaml"};
	int rc = to_yaml->fn(&sub, &m, 1);
	json_decref(m);
	if (rc)
		return tf_fail(c, "%s", sub.err);
	return tf_ret(c, sub.result);
}
static int files_as_config(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return files_as(c, 0); }
static int files_as_secrets(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return files_as(c, 1); }

static const struct tmpl_func FILES_METHODS[] = {
	{"Get", "s", files_get},		{"GetBytes", "s", files_get_bytes}, {"Glob", "s", files_glob},
	{"Lines", "s", files_lines},		{"AsConfig", "", files_as_config},  {"AsSecrets", "", files_as_secrets},
};
static const struct tobj_type FILES_TYPE = {"engine.files", FILES_METHODS, 6, NULL, "map"};

/* ---- .Capabilities ---- */

static int apis_has(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	size_t i;
	json_t *v;
	json_array_foreach(c->recv, i, v) if (json_equal(v, a[0])) return tf_ret_bool(c, 1);
	return tf_ret_bool(c, 0);
}
static const struct tmpl_func APIS_METHODS[] = {{"Has", "s", apis_has}};
static const struct tobj_type APIS_TYPE = {"chartutil.VersionSet", APIS_METHODS, 1, NULL, "slice"};

static int kv_string(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a, (void)n;
	json_t *v = json_object_get(c->recv, "Version");
	return tf_ret_str(c, json_string_value(v), json_string_length(v));
}
static void kv_print(json_t *obj, void *ctx, struct sbuf *b)
{
	(void)ctx;
	sb_puts(b, json_string_value(json_object_get(obj, "Version")));
}
static const struct tmpl_func KV_METHODS[] = {{"String", "", kv_string}, {"GitVersion", "", kv_string}};
static const struct tobj_type KV_TYPE = {"chartutil.KubeVersion", KV_METHODS, 2, kv_print, "struct"};

static void hv_print(json_t *obj, void *ctx, struct sbuf *b)
{
	(void)ctx;
	sb_printf(b, "{%s %s %s %s}", json_string_value(json_object_get(obj, "Version")),
		  json_string_value(json_object_get(obj, "GitCommit")), json_string_value(json_object_get(obj, "GitTreeState")),
		  json_string_value(json_object_get(obj, "GoVersion")));
}
static const struct tobj_type HV_TYPE = {"version.BuildInfo", NULL, 0, hv_print, "struct"};

/* "1.28" / "v1.28.3" -> {Version "v1.28.3", Major "1", Minor "28"}; -1 when not a version. */
static int kube_version(const char *v, json_t **out, struct sm_error *err)
{
	const char *p = v[0] == 'v' ? v + 1 : v;
	unsigned long maj, min = 0, pat = 0;
	char *end;
	maj = strtoul(p, &end, 10);
	if (end == p)
		goto bad;
	if (*end == '.') {
		p = end + 1;
		min = strtoul(p, &end, 10);
		if (end == p)
			goto bad;
		if (*end == '.') {
			p = end + 1;
			pat = strtoul(p, &end, 10);
			if (end == p)
				goto bad;
		}
	}
	char ver[256];
	snprintf(ver, sizeof ver, "v%lu.%lu.%lu%s", maj, min, pat, end);
	*out = json_object();
	json_object_set_new(*out, "Version", json_string(ver));
	json_object_set_new(*out, "Major", json_sprintf("%lu", maj));
	json_object_set_new(*out, "Minor", json_sprintf("%lu", min));
	return 0;
bad:
	sm_error_set(err, NULL, 0, 0, "invalid kube version '%s': Invalid Semantic Version", v);
	return -1;
}

/* ---- assembling the templates (Helm's recAllTpls) ---- */

struct renderable {
	char *name;     /* "chart/templates/x.yaml" */
	const char *tpl; /* borrowed from the chart */
	size_t len;
	json_t *vals; /* borrowed: the chart's top object */
	char *base_path;
};

struct render_ctx {
	struct renderable *r;
	size_t n, cap;
	struct tmpl_set *set;
	json_t *caps, *release;
};

static json_t *files_object(struct chart *c)
{
	json_t *o = json_object();
	for (size_t i = 0; i < c->nfiles; i++)
		json_object_set_new(o, c->files[i].name, json_stringn_nocheck(c->files[i].data, c->files[i].len));
	return o;
}

static json_t *rec_all(struct render_ctx *x, struct chart *c, json_t *parent_top, json_t *values)
{
	json_t *sub = json_object();
	json_t *chart = json_deep_copy(c->meta);
	json_object_set_new(chart, "IsRoot", json_boolean(c->parent == NULL));
	json_t *files = files_object(c);
	tmpl_set_bind(x->set, files, &FILES_TYPE, NULL);
	json_t *next = json_object();
	json_object_set_new(next, "Chart", chart);
	json_object_set_new(next, "Files", files);
	json_object_set(next, "Release", x->release);
	json_object_set(next, "Capabilities", x->caps);
	json_object_set_new(next, "Subcharts", sub);
	if (!c->parent) {
		json_object_set(next, "Values", values);
	} else {
		json_t *pv = json_object_get(parent_top, "Values");
		json_t *mine = json_is_object(pv) ? json_object_get(pv, c->name) : NULL;
		json_object_set_new(next, "Values", json_is_object(mine) ? json_incref(mine) : json_object());
	}
	for (size_t i = 0; i < c->ndeps; i++)
		json_object_set_new(sub, c->deps[i]->name, rec_all(x, c->deps[i], next, values));
	char full[2048];
	chart_full_path(c, full, sizeof full);
	for (size_t i = 0; i < c->ntemplates; i++) {
		const char *tn = c->templates[i].name;
		const char *base = strrchr(tn, '/');
		base = base ? base + 1 : tn;
		if (chart_is_library(c) && base[0] != '_')
			continue;
		if (x->n == x->cap) {
			x->cap = x->cap ? x->cap * 2 : 32;
			x->r = realloc(x->r, x->cap * sizeof *x->r);
			if (!x->r)
				abort();
		}
		struct renderable *r = &x->r[x->n++];
		r->name = malloc(strlen(full) + strlen(tn) + 2);
		r->base_path = malloc(strlen(full) + 12);
		if (!r->name || !r->base_path)
			abort();
		sprintf(r->name, "%s/%s", full, tn);
		sprintf(r->base_path, "%s/templates", full);
		r->tpl = c->templates[i].data;
		r->len = c->templates[i].len;
		r->vals = next; /* kept alive by the parent's Subcharts (the root's by the caller) */
	}
	return next;
}

static size_t slashes(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '/';
	return n;
}

/* Helm's sortTemplates: deepest paths first, then reverse lexical order. */
static int cmp_render(const void *a, const void *b)
{
	const struct renderable *x = a, *y = b;
	size_t cx = slashes(x->name), cy = slashes(y->name);
	if (cx != cy)
		return cx < cy ? 1 : -1;
	return -strcmp(x->name, y->name);
}

/* ---- manifests ---- */

struct manifest {
	const char *path;
	char *content;
	char *kind;
	int hook;
	size_t order; /* stable sort */
};

static int kind_rank(const char *k)
{
	for (size_t i = 0; i < sizeof INSTALL_ORDER / sizeof INSTALL_ORDER[0]; i++)
		if (!strcmp(INSTALL_ORDER[i], k))
			return (int)i;
	return -1;
}

/* Helm's lessByKind, made a total order with the original position. */
static int cmp_manifest(const void *a, const void *b)
{
	const struct manifest *x = a, *y = b;
	int rx = kind_rank(x->kind), ry = kind_rank(y->kind);
	if (rx < 0 && ry < 0) {
		int c = strcmp(x->kind, y->kind);
		if (c)
			return c;
	} else if (rx < 0) {
		return 1;
	} else if (ry < 0) {
		return -1;
	} else if (rx != ry) {
		return rx < ry ? -1 : 1;
	}
	return x->order < y->order ? -1 : x->order > y->order;
}

static char *trim_space(const char *s, size_t n, size_t *outlen)
{
	const char *a = s, *b = s + n;
	while (a < b && strchr(" \t\n\r\v\f", *a))
		a++;
	while (b > a && strchr(" \t\n\r\v\f", b[-1]))
		b--;
	*outlen = (size_t)(b - a);
	return strndup(a, (size_t)(b - a));
}

struct mlist {
	struct manifest *m;
	size_t n, cap;
};

static void ml_add(struct mlist *l, struct manifest m)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->m = realloc(l->m, l->cap * sizeof *l->m);
		if (!l->m)
			abort();
	}
	m.order = l->n;
	l->m[l->n++] = m;
}

/* Helm's manifest separator and its required/fail message pattern, compiled per render (thread safe). */
struct patterns {
	struct tre *sep, *warn;
};
static __thread struct patterns *PAT;
#define SEP (PAT->sep)

/* One document's head (kind, hook annotation) into gen or hooks. */
static int add_doc(const struct chart_opts *o, const char *path, char *doc, size_t dl, struct mlist *gen,
		   struct mlist *hooks, struct sm_error *err)
{
	struct sm_error ye = {0};
	json_t *docs = yv_load(doc, dl, path, 0, NULL, &ye);
	if (!docs) {
		char prefix[4200];
		snprintf(prefix, sizeof prefix, "YAML parse error on %s", path);
		chart_yaml_error(err, prefix, &ye);
		free(doc);
		return -1;
	}
	json_t *head = json_array_get(docs, 0);
	if (head && !json_is_object(head) && !json_is_null(head)) {
		sm_error_set(err, NULL, 0, 0,
			 "YAML parse error on %s: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s "
			 "into Go value of type releaseutil.SimpleHead",
			 path, json_is_array(head) ? "array" : json_is_string(head) ? "string" : json_is_boolean(head) ? "bool" : "number");
		json_decref(docs);
		free(doc);
		return -1;
	}
	const char *kind = json_string_value(json_object_get(head, "kind"));
	json_t *ann = json_object_get(json_object_get(head, "metadata"), "annotations");
	const char *hook = json_string_value(json_object_get(ann, "helm.sh/hook"));
	struct manifest mf = {.path = path, .content = doc, .kind = strdup(kind ? kind : "")};
	char *h = hook ? strdup(hook) : NULL, *hook_copy = hook ? strdup(hook) : NULL;
	json_decref(docs);
	if (!h) {
		ml_add(gen, mf);
		return 0;
	}
	/* an unknown hook event drops the document, as Helm does */
	int known = 1;
	char *save, *tok;
	for (tok = strtok_r(h, ",", &save); tok && known; tok = strtok_r(NULL, ",", &save)) {
		size_t tl;
		char *t = trim_space(tok, strlen(tok), &tl);
		for (char *q = t; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q + 32);
		int ok = 0;
		for (size_t e = 0; e < sizeof HOOK_EVENTS / sizeof HOOK_EVENTS[0]; e++)
			ok |= !strcmp(HOOK_EVENTS[e], t);
		free(t);
		known = ok;
	}
	free(h);
	if (!known) {
		if (o->warn) {
			struct sbuf w = {0};
			sb_puts(&w, "manifest_sorter.go:190: info: skipping unknown hook: ");
			go_quote(&w, hook_copy, strlen(hook_copy), 0);
			sb_add(&w, "", 0);
			o->warn(o->warn_ctx, w.s);
			free(w.s);
		}
		free(hook_copy);
		free(mf.content);
		free(mf.kind);
		return 0;
	}
	free(hook_copy);
	mf.hook = 1;
	ml_add(hooks, mf);
	return 0;
}

/* Helm's SplitManifests: Go's regexp Split of the trimmed file on (?:^|\s*\n)---\s* . */
static int split_file(const struct chart_opts *o, const char *path, const char *content, size_t len, struct mlist *gen, struct mlist *hooks,
		      struct sm_error *err)
{
	size_t tl;
	char *text = trim_space(content, len, &tl);
	if (!text)
		abort();
	long *m;
	size_t cnt = tre_all_matches(SEP, text, tl, (long long)tl + 1, &m);
	size_t stride = 2 * (size_t)(tre_ngroups(SEP) + 1);
	int rc = 0;
	size_t beg = 0, end = 0;
	/* Go's Split(s, -1) */
	struct {
		size_t a, b;
	} *parts = malloc((cnt + 2) * sizeof *parts);
	size_t np = 0;
	if (!parts)
		abort();
	if (tl == 0) {
		parts[np].a = parts[np].b = 0;
		np++;
	} else {
		for (size_t i = 0; i < cnt; i++) {
			end = (size_t)m[i * stride];
			if (m[i * stride + 1] != 0) {
				parts[np].a = beg;
				parts[np].b = end;
				np++;
			}
			beg = (size_t)m[i * stride + 1];
		}
		if (end != tl) {
			parts[np].a = beg;
			parts[np].b = tl;
			np++;
		}
	}
	for (size_t i = 0; i < np && !rc; i++) {
		if (parts[i].a == parts[i].b)
			continue;
		size_t dl;
		char *doc = trim_space(text + parts[i].a, parts[i].b - parts[i].a, &dl);
		rc = add_doc(o, path, doc, dl, gen, hooks, err);
	}
	free(parts);
	free(m);
	free(text);
	return rc;
}

/* ---- errors as Helm words them ---- */

/* cleanupParseError: "parse error at (LOCATION): last part" */
static void parse_error(const char *msg, struct sm_error *err)
{
	const char *first = strstr(msg, ": ");
	if (!first) {
		sm_error_set(err, NULL, 0, 0, "%s", msg);
		return;
	}
	const char *loc = first + 2, *loc_end = strstr(loc, ": ");
	const char *last = msg, *p;
	for (p = msg; (p = strstr(p, ": ")); p += 2)
		last = p + 2;
	if (!loc_end)
		loc_end = loc + strlen(loc);
	sm_error_set(err, NULL, 0, 0, "parse error at (%.*s): %s", (int)(loc_end - loc), loc, last);
}

/* reformatExecErrorMsg: errors of required/fail keep only the message. */
static void exec_error(const char *filename, const char *msg, struct sm_error *err)
{
	const char *t1 = strstr(msg, ": ");
	const char *t2 = t1 ? strstr(t1 + 2, ": ") : NULL;
	if (!t2) {
		sm_error_set(err, NULL, 0, 0, "execution error in (%s): %s", filename, msg);
		return;
	}
	const char *loc = t1 + 2, *rest = t2 + 2;
	struct tre *warn = PAT->warn;
	long m[8];
	if (warn && tre_exec(warn, rest, strlen(rest), 0, m) && m[6] >= 0) {
		sm_error_set(err, NULL, 0, 0, "execution error at (%.*s): %.*s", (int)(t2 - loc), loc, (int)(m[7] - m[6]), rest + m[6]);
		return;
	}
	sm_error_set(err, NULL, 0, 0, "%s", msg);
}

static void strip_no_value(struct sbuf *b, const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	while (p < end) {
		const char *q = memmem(p, (size_t)(end - p), "<no value>", 10);
		if (!q) {
			sb_add(b, p, (size_t)(end - p));
			break;
		}
		sb_add(b, p, (size_t)(q - p));
		p = q + 10;
	}
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

int chart_template(struct chart *c, const struct chart_opts *o, char **out, size_t *outlen, struct sm_error *err)
{
	int rc = -1;
	*out = NULL;
	*outlen = 0;
	struct patterns pat = {0};
	struct patterns *saved_pat = PAT;
	if (chart_is_library(c)) {
		sm_error_set(err, NULL, 0, 0, "library charts are not installable");
		return -1;
	}
	json_t *kv = NULL, *vals = NULL, *top = NULL;
	struct render_ctx x = {0};
	struct mlist gen = {0}, hooks = {0};
	char **rendered = NULL;
	size_t *rlen = NULL;
	if (kube_version(o->kube_version ? o->kube_version : DEFAULT_KUBE_VERSION, &kv, err))
		return -1;
	/* dependencies named in Chart.yaml must be in charts/ */
	json_t *reqs = json_object_get(c->meta, "Dependencies");
	size_t j;
	json_t *r;
	json_array_foreach(reqs, j, r)
	{
		const char *dn = json_string_value(json_object_get(r, "Name"));
		int found = 0;
		for (size_t i = 0; i < c->ndeps; i++)
			found |= !strcmp(c->deps[i]->name, dn);
		if (!found) {
			sm_error_set(err, NULL, 0, 0,
				 "An error occurred while checking for chart dependencies. You may need to run `helm "
				 "dependency build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ "
				 "directory: %s",
				 dn);
			json_decref(kv);
			return -1;
		}
	}
	json_t *user = o->values ? json_deep_copy(o->values) : json_object();
	if (chart_process_dependencies(c, user, err)) {
		json_decref(user);
		json_decref(kv);
		return -1;
	}
	vals = chart_coalesce(c, user, err);
	json_decref(user);
	if (!vals) {
		json_decref(kv);
		return -1;
	}
	if (chart_validate_schema(c, vals, err))
		goto out;
	rc = -2; /* from here on Helm has a release, and its errors say how to see the invalid YAML */
	struct sm_error pe;
	const char *sep_re = "(?:^|\\s*\n)---\\s*";
	const char *warn_re = "^executing \"(.*?)\" at <(.*?)>: error calling (?:fail|required): (.*)$";
	pat.sep = tre_compile(sep_re, strlen(sep_re), &pe);
	pat.warn = tre_compile(warn_re, strlen(warn_re), &pe);
	if (!pat.sep || !pat.warn)
		abort(); /* constant patterns */
	PAT = &pat;
	const char *kcons = json_string_value(json_object_get(c->meta, "KubeVersion"));
	if (kcons && *kcons) {
		struct sm_error e;
		const char *kver = json_string_value(json_object_get(kv, "Version"));
		if (tmpl_semver_compare(kcons, kver, strlen(kver), &e) != 1) {
			sm_error_set(err, NULL, 0, 0, "chart requires kubeVersion: %s which is incompatible with Kubernetes %s", kcons,
				 kver);
			goto out;
		}
	}
	x.set = tmpl_set_new();
	helm_install_funcs(x.set);
	tmpl_set_helm(x.set, 1);
	json_t *apis = json_array();
	for (size_t i = 0; i < sizeof DEFAULT_API_VERSIONS / sizeof DEFAULT_API_VERSIONS[0]; i++)
		json_array_append_new(apis, json_string(DEFAULT_API_VERSIONS[i]));
	for (size_t i = 0; i < o->napi_versions; i++)
		json_array_append_new(apis, json_string(o->api_versions[i]));
	json_t *hv = json_pack("{ssssssss}", "Version", "v3.17.2", "GitCommit", "cc0bbbd6d6276b83880042c1ecb34087e84d41eb",
			       "GitTreeState", "clean", "GoVersion", "go1.23.7");
	x.caps = json_pack("{sOsoso}", "KubeVersion", kv, "APIVersions", apis, "HelmVersion", hv);
	tmpl_set_bind(x.set, kv, &KV_TYPE, NULL);
	tmpl_set_bind(x.set, apis, &APIS_TYPE, NULL);
	tmpl_set_bind(x.set, hv, &HV_TYPE, NULL);
	x.release = json_pack("{sssssisssbsb}", "Name", o->release ? o->release : "release-name", "Namespace",
			      o->namespace_ ? o->namespace_ : "default", "Revision", 1, "Service", "Helm", "IsUpgrade", 0,
			      "IsInstall", 1);
	top = rec_all(&x, c, NULL, vals);
	if (x.n)
		qsort(x.r, x.n, sizeof *x.r, cmp_render);
	struct sm_error te;
	for (size_t i = 0; i < x.n; i++)
		if (tmpl_parse(x.set, x.r[i].name, x.r[i].tpl, x.r[i].len, &te)) {
			parse_error(te.msg, err);
			goto out;
		}
	rendered = calloc(x.n + 1, sizeof *rendered);
	rlen = calloc(x.n + 1, sizeof *rlen);
	if (!rendered || !rlen)
		abort();
	for (size_t i = 0; i < x.n; i++) {
		const char *base = strrchr(x.r[i].name, '/');
		if (base[1] == '_')
			continue;
		json_object_set_new(x.r[i].vals, "Template",
				    json_pack("{ssss}", "Name", x.r[i].name, "BasePath", x.r[i].base_path));
		char *o1;
		size_t l1;
		if (tmpl_execute(x.set, x.r[i].name, x.r[i].vals, &o1, &l1, &te)) {
			exec_error(x.r[i].name, te.msg, err);
			goto out;
		}
		struct sbuf b = {0};
		sb_add(&b, "", 0);
		strip_no_value(&b, o1, l1);
		free(o1);
		rlen[i] = b.len;
		rendered[i] = sb_take(&b);
	}
	/* files in path order; NOTES.txt rendered (its errors count) but not printed; partials never */
	size_t *idx = malloc((x.n + 1) * sizeof *idx), ni = 0;
	if (!idx)
		abort();
	for (size_t i = 0; i < x.n; i++)
		if (rendered[i] && !has_suffix(x.r[i].name, "NOTES.txt"))
			idx[ni++] = i;
	for (size_t a = 1; a < ni; a++)
		for (size_t b2 = a; b2 > 0 && strcmp(x.r[idx[b2 - 1]].name, x.r[idx[b2]].name) > 0; b2--) {
			size_t t = idx[b2];
			idx[b2] = idx[b2 - 1];
			idx[b2 - 1] = t;
		}
	for (size_t k = 0; k < ni; k++) {
		size_t i = idx[k];
		size_t tl;
		char *t = trim_space(rendered[i], rlen[i], &tl);
		free(t);
		if (!tl)
			continue;
		if (split_file(o, x.r[i].name, rendered[i], rlen[i], &gen, &hooks, err)) {
			free(idx);
			goto out;
		}
	}
	free(idx);
	if (gen.n)
		qsort(gen.m, gen.n, sizeof *gen.m, cmp_manifest);
	if (hooks.n)
		qsort(hooks.m, hooks.n, sizeof *hooks.m, cmp_manifest);
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	for (size_t i = 0; i < gen.n; i++)
		sb_printf(&b, "---\n# Source: %s\n%s\n", gen.m[i].path, gen.m[i].content);
	for (size_t i = 0; i < hooks.n; i++)
		sb_printf(&b, "---\n# Source: %s\n%s\n", hooks.m[i].path, hooks.m[i].content);
	*outlen = b.len;
	*out = sb_take(&b);
	rc = 0;
out:
	for (size_t i = 0; i < gen.n; i++)
		free(gen.m[i].content), free(gen.m[i].kind);
	for (size_t i = 0; i < hooks.n; i++)
		free(hooks.m[i].content), free(hooks.m[i].kind);
	free(gen.m);
	free(hooks.m);
	for (size_t i = 0; rendered && i < x.n; i++)
		free(rendered[i]);
	free(rendered);
	free(rlen);
	for (size_t i = 0; i < x.n; i++)
		free(x.r[i].name), free(x.r[i].base_path);
	free(x.r);
	json_decref(top);
	tmpl_set_free(x.set);
	json_decref(x.caps);
	json_decref(x.release);
	json_decref(kv);
	json_decref(vals);
	tre_free(pat.sep);
	tre_free(pat.warn);
	PAT = saved_pat;
	return rc;
}
