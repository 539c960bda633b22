/* lib.c — the public API (appdeploy.h) over the pipeline: handles, their ownership, the one error type. */
#include "appdeploy.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "kubeconfig.h"
#include "liberror.h"
#include "pipeline.h"
#include "sprig.h"
#include "tmpl.h"
#include "vars.h"
#include "yamlemit.h"

#define LIB_VERSION "0.1.0"

/* A growing list of owned strings. */
struct strv {
	char **v;
	size_t n;
};

/* One appdeploy_set_func entry: what the engine's trampoline calls. */
struct ufunc {
	appdeploy_func fn;
	void *arg;
	char *name;
	struct tmpl_func entry; /* the engine's view: {name, "a*", call_user}; call_user finds u by tf_ctx */
};

static int call_user(struct tmpl_call *c, json_t **a, size_t n);

struct appdeploy_set {
	char *dir, *ns, *set_name, *images, *kubeconfig, *context;
	struct strv var_files, vars, pull_secrets, sources;
	struct ufunc **funcs; /* stable addresses: the engine keeps &funcs[i] as ctx */
	size_t nfuncs;
};

struct appdeploy_objects {
	char *ns;
	size_t n;
	char **yaml, **json, **source;
};

const char *appdeploy_version(void) { return LIB_VERSION; }

int appdeploy_global_init(void)
{
	sprig_process_init();
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void appdeploy_global_cleanup(void) { curl_global_cleanup(); }

void appdeploy_free(void *p) { free(p); }

static void fail(appdeploy_error **err, const char *msg)
{
	if (err)
		*err = liberror_from_message(msg);
}

static int strv_push(struct strv *sv, const char *s)
{
	char **nv = realloc(sv->v, (sv->n + 1) * sizeof *nv);
	if (!nv)
		return -1;
	sv->v = nv;
	if (!(sv->v[sv->n] = strdup(s)))
		return -1;
	sv->n++;
	return 0;
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
}

/* Replaces *slot with a copy of s (NULL clears). */
static int set_str(char **slot, const char *s)
{
	char *c = s ? strdup(s) : NULL;
	if (s && !c)
		return -1;
	free(*slot);
	*slot = c;
	return 0;
}

appdeploy_set *appdeploy_set_new(const char *dir)
{
	appdeploy_set *s = calloc(1, sizeof *s);
	if (!s || !dir || !(s->dir = strdup(dir))) {
		free(s);
		return NULL;
	}
	return s;
}

void appdeploy_set_free(appdeploy_set *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s->ns);
	free(s->set_name);
	free(s->images);
	free(s->kubeconfig);
	free(s->context);
	strv_free(&s->var_files);
	strv_free(&s->vars);
	strv_free(&s->pull_secrets);
	strv_free(&s->sources);
	for (size_t i = 0; i < s->nfuncs; i++) {
		free(s->funcs[i]->name);
		free(s->funcs[i]);
	}
	free(s->funcs);
	free(s);
}

int appdeploy_set_values_file(appdeploy_set *s, const char *path) { return path ? strv_push(&s->var_files, path) : -1; }

int appdeploy_set_value(appdeploy_set *s, const char *kv, appdeploy_error **err)
{
	struct sm_error e;
	json_t *scratch = json_object();
	int bad = vars_set(scratch, kv ? kv : "", &e);
	json_decref(scratch);
	if (err)
		*err = NULL;
	if (bad) {
		fail(err, e.msg);
		return -1;
	}
	return strv_push(&s->vars, kv);
}

int appdeploy_set_namespace(appdeploy_set *s, const char *ns) { return set_str(&s->ns, ns); }

int appdeploy_set_name(appdeploy_set *s, const char *set_name) { return set_str(&s->set_name, set_name); }

int appdeploy_set_images(appdeploy_set *s, const char *file_or_url) { return set_str(&s->images, file_or_url); }

int appdeploy_set_pull_secret(appdeploy_set *s, const char *secret) { return secret ? strv_push(&s->pull_secrets, secret) : -1; }

int appdeploy_set_source(appdeploy_set *s, const char *arg, appdeploy_error **err)
{
	struct sm_error e;
	char msg[300];
	json_t *scratch = json_object();
	int bad = vars_source_set(scratch, arg ? arg : "", &e);
	json_decref(scratch);
	if (err)
		*err = NULL;
	if (bad) {
		snprintf(msg, sizeof msg, "--source %.255s", e.msg);
		fail(err, msg);
		return -1;
	}
	return strv_push(&s->sources, arg);
}

int appdeploy_set_cluster(appdeploy_set *s, const char *kubeconfig, const char *context)
{
	return set_str(&s->kubeconfig, kubeconfig) || set_str(&s->context, context) ? -1 : 0;
}

/* The engine's side of a user function: arguments to JSON text, the answer back from JSON text. */
static int call_user(struct tmpl_call *c, json_t **a, size_t n)
{
	const struct ufunc *u = tf_ctx(c);
	char **args = calloc(n ? n : 1, sizeof *args);
	if (!args)
		return tf_fail(c, "out of memory");
	for (size_t i = 0; i < n; i++)
		args[i] = a[i] ? json_dumps(a[i], JSON_ENCODE_ANY | JSON_COMPACT) : strdup("null");
	char *error = NULL;
	char *res = u->fn(u->arg, n, (const char *const *)args, &error);
	for (size_t i = 0; i < n; i++)
		free(args[i]);
	free(args);
	int rc;
	if (!res) {
		rc = tf_fail(c, "%s", error ? error : "the function returned neither a result nor an error");
	} else {
		json_error_t je;
		json_t *v = json_loads(res, JSON_DECODE_ANY, &je);
		rc = v ? tf_ret(c, v) : tf_fail(c, "the function's result is not JSON: %s", je.text);
	}
	free(res);
	free(error);
	return rc;
}

int appdeploy_set_func(appdeploy_set *s, const char *name, appdeploy_func fn, void *arg)
{
	if (!name || !*name || !fn)
		return -1;
	struct ufunc **nv = realloc(s->funcs, (s->nfuncs + 1) * sizeof *nv);
	if (!nv)
		return -1;
	s->funcs = nv;
	struct ufunc *u = calloc(1, sizeof *u);
	if (!u || !(u->name = strdup(name))) {
		free(u);
		return -1;
	}
	u->fn = fn;
	u->entry = (struct tmpl_func){u->name, "a*", call_user};
	u->arg = arg;
	s->funcs[s->nfuncs++] = u;
	return 0;
}

/* The pipeline's options for s: views of s's own strings, valid while s is unchanged. *funcs is
 * malloc'd (free it after the call). */
static void opts_of(const appdeploy_set *s, const appdeploy_apply_opts *a, struct pipeline_opts *o,
		    struct render_func **funcs)
{
	*o = (struct pipeline_opts){
		.dir = s->dir,
		.var_files = (const char *const *)s->var_files.v,
		.n_var_files = s->var_files.n,
		.vars = (const char *const *)s->vars.v,
		.n_vars = s->vars.n,
		.ns = s->ns,
		.set_name = s->set_name,
		.images = s->images,
		.pull_secrets = (const char *const *)s->pull_secrets.v,
		.n_pull_secrets = s->pull_secrets.n,
		.sources = (const char *const *)s->sources.v,
		.n_sources = s->sources.n,
		.kubeconfig = s->kubeconfig,
		.context = s->context,
	};
	*funcs = calloc(s->nfuncs ? s->nfuncs : 1, sizeof **funcs);
	if (*funcs) {
		for (size_t i = 0; i < s->nfuncs; i++)
			(*funcs)[i] = (struct render_func){&s->funcs[i]->entry, s->funcs[i]};
		o->funcs = *funcs;
		o->n_funcs = s->nfuncs;
	}
	if (a) {
		o->dry_run = a->dry_run;
		o->no_prune = a->no_prune;
		o->wait = a->wait;
		o->wait_timeout = a->wait_timeout;
		o->force_apply = a->force_apply;
		o->adopt = a->adopt;
		o->take_over = a->take_over;
		o->no_force_conflicts = a->no_force_conflicts;
		o->allow_empty = a->allow_empty;
		o->concurrency = a->concurrency;
	}
}

/* The library's sink: the first render failure is kept (it becomes *err), the rest go to the
 * caller's progress callback. */
struct lib_sink {
	appdeploy_progress cb;
	void *arg;
	char *render_err;
};

static void lib_diag(void *arg, enum diag_kind kind, const char *text)
{
	struct lib_sink *ls = arg;
	if (kind == DIAG_RENDER) {
		if (!ls->render_err)
			ls->render_err = strdup(text);
		return;
	}
	if (!ls->cb)
		return;
	ls->cb(ls->arg, kind == DIAG_PROGRESS ? APPDEPLOY_PROGRESS : kind == DIAG_WARN ? APPDEPLOY_WARNING : APPDEPLOY_ERROR,
	       text);
}

void appdeploy_objects_free(appdeploy_objects *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		free(o->yaml[i]);
		free(o->json[i]);
		free(o->source[i]);
	}
	free(o->yaml);
	free(o->json);
	free(o->source);
	free(o->ns);
	free(o);
}

static appdeploy_objects *objects_of(json_t *objs, char *ns)
{
	appdeploy_objects *o = calloc(1, sizeof *o);
	size_t n = json_array_size(objs);
	if (!o)
		return NULL;
	o->ns = ns;
	o->yaml = calloc(n ? n : 1, sizeof *o->yaml);
	o->json = calloc(n ? n : 1, sizeof *o->json);
	o->source = calloc(n ? n : 1, sizeof *o->source);
	if (!o->yaml || !o->json || !o->source) {
		appdeploy_objects_free(o);
		return NULL;
	}
	for (size_t i = 0; i < n; i++, o->n++) {
		json_t *e = json_array_get(objs, i), *obj = json_object_get(e, "object");
		o->yaml[i] = yaml_emit(obj, NULL);
		o->json[i] = json_dumps(obj, JSON_INDENT(2));
		o->source[i] = strdup(json_string_value(json_object_get(e, "file")) ?: "");
		if (!o->yaml[i] || !o->json[i] || !o->source[i]) {
			o->n++;
			appdeploy_objects_free(o);
			return NULL;
		}
	}
	return o;
}

appdeploy_objects *appdeploy_render(appdeploy_set *s, appdeploy_error **err)
{
	if (err)
		*err = NULL;
	struct pipeline_opts o;
	struct render_func *funcs;
	opts_of(s, NULL, &o, &funcs);
	if (!funcs) {
		fail(err, "out of memory");
		return NULL;
	}
	/* the context's namespace is a fallback only: no kubeconfig is fine for render */
	struct kube_config kc;
	struct sm_error kerr;
	int have_kc = !kubeconfig_load(s->kubeconfig, s->context, &kc, &kerr);
	struct lib_sink ls = {0};
	const struct diag d = {lib_diag, &ls};
	json_t *objs = NULL;
	char *ns = NULL;
	appdeploy_objects *out = NULL;
	if (pipeline_render_local(&o, have_kc ? kc.namespace : NULL, &d, &objs, &ns))
		fail(err, ls.render_err ? ls.render_err : "render failed");
	else if (!(out = objects_of(objs, ns)))
		fail(err, "out of memory");
	else
		ns = NULL;
	if (have_kc)
		kubeconfig_free(&kc);
	json_decref(objs);
	free(ns);
	free(ls.render_err);
	free(funcs);
	return out;
}

size_t appdeploy_objects_count(const appdeploy_objects *o) { return o ? o->n : 0; }

const char *appdeploy_objects_namespace(const appdeploy_objects *o) { return o ? o->ns : NULL; }

const char *appdeploy_objects_yaml(const appdeploy_objects *o, size_t i) { return o && i < o->n ? o->yaml[i] : NULL; }

const char *appdeploy_objects_json(const appdeploy_objects *o, size_t i) { return o && i < o->n ? o->json[i] : NULL; }

const char *appdeploy_objects_source(const appdeploy_objects *o, size_t i)
{
	return o && i < o->n ? o->source[i] : NULL;
}

char *appdeploy_objects_stream(const appdeploy_objects *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; o && i < o->n; i++) /* as cmd_render.c prints -o - */
		fprintf(f, "---\n# Source: %s\n%s", o->source[i], o->yaml[i]);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static int run(appdeploy_set *s, enum pipeline_mode mode, const appdeploy_apply_opts *a, appdeploy_progress cb,
	       void *arg, int *changes, appdeploy_error **err)
{
	if (err)
		*err = NULL;
	struct pipeline_opts o;
	struct render_func *funcs;
	opts_of(s, a, &o, &funcs);
	if (!funcs) {
		fail(err, "out of memory");
		return -1;
	}
	struct lib_sink ls = {cb, arg, NULL};
	const struct diag d = {lib_diag, &ls};
	struct sm_error e;
	int dummy = 0;
	int rc = pipeline_run(&o, mode, &d, changes ? changes : &dummy, &e);
	if (rc)
		fail(err, ls.render_err ? ls.render_err : e.msg); /* the render's own error says where */
	free(ls.render_err);
	free(funcs);
	return rc ? -1 : 0;
}

int appdeploy_apply(appdeploy_set *s, const appdeploy_apply_opts *opts, appdeploy_progress progress, void *arg,
		    appdeploy_error **err)
{
	return run(s, PIPELINE_APPLY, opts, progress, arg, NULL, err);
}

int appdeploy_diff(appdeploy_set *s, const appdeploy_apply_opts *opts, appdeploy_progress progress, void *arg,
		   int *changes, appdeploy_error **err)
{
	if (changes)
		*changes = 0;
	return run(s, PIPELINE_DIFF, opts, progress, arg, changes, err);
}
