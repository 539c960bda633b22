/* pipeline.c — the one deploy pipeline (pipeline.h): load, render once, connect, source state, diff/apply. */
#include "pipeline.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errbuf.h"
#include "lookup.h"
#include "render.h"
#include "sourcestate.h"
#include "sync.h"
#include "vars.h"
#include "yamlval.h"

/* .Images: a YAML/JSON file, or an http(s) URL answering one. NULL when not given; -1 on error. */
static int load_images(const char *src, const struct diag *d, json_t **out)
{
	*out = NULL;
	if (!src)
		return 0;
	struct sm_error err;
	char *text = NULL;
	size_t len = 0;
	if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8)) {
		if (kube_fetch_url(src, &text, &len, &err)) {
			diag_say(d, DIAG_RENDER, "--images %s: %s", src, err.msg);
			return -1;
		}
	}
	struct sm_error ye = {0};
	json_t *docs = text ? yv_load(text, len, src, 1, NULL, &ye) : yv_load_file(src, 1, NULL, &ye);
	free(text);
	if (!docs) {
		diag_say(d, DIAG_RENDER, "%s", ye.msg); /* "SRC:LINE:COL: what" */
		return -1;
	}
	*out = json_array_size(docs) == 1 ? json_incref(json_array_get(docs, 0)) : json_incref(docs);
	json_decref(docs);
	return 0;
}

/* .Source: the cluster's saved state (may be NULL) first, then the --source values. NULL on error. */
static json_t *source_of(const struct pipeline_opts *o, json_t *saved, const struct diag *d)
{
	struct sm_error err;
	json_t *source = saved ? json_deep_copy(saved) : json_object();
	for (size_t i = 0; i < o->n_sources; i++)
		if (vars_source_set(source, o->sources[i], &err)) {
			diag_say(d, DIAG_RENDER, "--source: %s", err.msg);
			json_decref(source);
			return NULL;
		}
	return source;
}

void pipeline_default_set_name(const char *dir, char *out, size_t cap)
{
	/* DIR's base name made a valid label value: other characters become '-', the ends must be
	 * alphanumeric, 63 characters at most ("my_app_" -> "my_app"). --set is taken as given. */
	char *rp = realpath(dir, NULL);
	const char *base = rp ? basename(rp) : "default";
	size_t n = 0;

	while (*base && !isalnum((unsigned char)*base))
		base++;
	for (; *base && n < 63 && n + 1 < cap; base++)
		out[n++] = isalnum((unsigned char)*base) || strchr("-_.", *base) ? *base : '-';
	while (n && !isalnum((unsigned char)out[n - 1]))
		n--;
	out[n] = 0;
	if (!n)
		snprintf(out, cap, "default");
	free(rp);
}

void pipeline_set_clear(struct pipeline_set *s)
{
	json_decref(s->data);
	free(s->ns);
	free(s->set);
	memset(s, 0, sizeof *s);
}

int pipeline_load(const struct pipeline_opts *o, const char *ctx_ns, const struct diag *d, struct pipeline_set *s)
{
	memset(s, 0, sizeof *s);
	struct stat st;
	errno = 0;
	if (stat(o->dir, &st) || !S_ISDIR(st.st_mode)) {
		diag_say(d, DIAG_RENDER, "%s: %s", o->dir, errno ? strerror(errno) : "not a directory");
		return -1;
	}
	json_t *images, *source = NULL;
	if (load_images(o->images, d, &images) || !(source = source_of(o, NULL, d))) {
		json_decref(images);
		return -1;
	}
	struct sm_error err;
	struct vars_opts vo = {
		.dir = o->dir,
		.files = o->var_files,
		.nfiles = o->n_var_files,
		.sets = o->vars,
		.nsets = o->n_vars,
		.namespace_ = o->ns,
		.pull_secrets = o->pull_secrets,
		.npull_secrets = o->n_pull_secrets,
		.images = images,
		.source = source,
	};
	s->data = vars_build(&vo, &err);
	json_decref(images);
	json_decref(source);
	if (!s->data) {
		diag_say(d, DIAG_RENDER, "%s", err.msg);
		return -1;
	}
	/* the namespace: -n, else the `namespace` variable (both settled by vars.c), else the
	 * kubeconfig context's, else "default" */
	const char *v = json_string_value(json_object_get(s->data, "Namespace"));
	s->ns = strdup(v && *v ? v : ctx_ns && *ctx_ns ? ctx_ns : "default");
	json_object_set_new(s->data, "Namespace", json_string(s->ns));
	if (o->set_name)
		s->set = strdup(o->set_name);
	else {
		char buf[64];
		pipeline_default_set_name(o->dir, buf, sizeof buf);
		s->set = strdup(buf);
	}
	return 0;
}

int pipeline_render(const struct pipeline_opts *o, const struct pipeline_set *s, json_t *saved,
		    const struct diag *d, json_t **objs)
{
	*objs = NULL;
	json_t *data = json_copy(s->data); /* shallow: only .Source and .SourceMode are replaced */
	if (saved) {
		json_t *source = source_of(o, saved, d);
		if (!source) {
			json_decref(data);
			return -1;
		}
		vars_set_source(data, source);
		json_decref(source);
	}
	struct sm_error re = {0};
	int rc = render_dir_funcs(o->dir, data, s->set, o->funcs, o->n_funcs, objs, &re);
	json_decref(data);
	if (rc) {
		diag_say(d, DIAG_RENDER, "%s", re.msg);
		return -1;
	}
	return 0;
}

int pipeline_render_local(const struct pipeline_opts *o, const char *ctx_ns, const struct diag *d, json_t **objs,
			  char **ns)
{
	struct pipeline_set s;
	*objs = NULL;
	*ns = NULL;
	if (pipeline_load(o, ctx_ns, d, &s))
		return -1;
	int rc = pipeline_render(o, &s, NULL, d, objs);
	if (!rc) {
		*ns = s.ns;
		s.ns = NULL;
	}
	pipeline_set_clear(&s);
	return rc;
}

struct kube *pipeline_connect(const struct pipeline_opts *o, const struct kube_config *kc, const struct diag *d,
			      struct sm_error *err)
{
	struct kube *k = kube_new(kc, err);
	if (!k)
		return NULL;
	kube_set_diag(k, d);
	if (o->concurrency > 0)
		kube_set_concurrency(k, o->concurrency);
	if (o->page_size > 0)
		kube_set_page_size(k, o->page_size);
	return k;
}

/* Lists the templates of dir (relative paths) the way render_dir finds them: *.yaml / *.yml,
 * hidden entries, variables.yaml, '_' files and *.tpl left out. */
static void list_templates(const char *dir, const char *rel, FILE *out, int *count)
{
	char *path;
	if (asprintf(&path, "%s%s%s", dir, *rel ? "/" : "", rel) < 0)
		return;
	DIR *dp = opendir(path);
	free(path);
	if (!dp)
		return;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		char *sub;
		if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) < 0)
			continue;
		char *full;
		struct stat st;
		if (asprintf(&full, "%s/%s", dir, sub) >= 0 && !stat(full, &st)) {
			size_t l = strlen(e->d_name);
			int yaml = (l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) || (l > 4 && !strcmp(e->d_name + l - 4, ".yml"));
			if (S_ISDIR(st.st_mode))
				list_templates(dir, sub, out, count);
			else if (yaml && e->d_name[0] != '_' && strcmp(sub, "variables.yaml"))
				fprintf(out, "%s%s", (*count)++ ? ", " : "", sub);
		}
		free(full);
		free(sub);
	}
	closedir(dp);
}

int pipeline_check_empty(const struct pipeline_opts *o, const char *mode, json_t *objs, struct sm_error *err)
{
	/* pruning a whole set because an {{ if }} turned everything off is never what was meant */
	if (json_array_size(objs) || o->allow_empty)
		return 0;
	char *names = NULL;
	size_t len = 0;
	int count = 0;
	FILE *f = open_memstream(&names, &len);
	if (f) {
		list_templates(o->dir, "", f, &count);
		fclose(f);
	}
	sm_error_set(err, NULL, 0, 0,
		   "every template of %s rendered empty (%s): nothing was applied or pruned. Pass "
		   "--allow-empty to %s it anyway (that prunes every object of the set)",
		   o->dir, count ? names : "no templates", mode);
	free(names);
	return -1;
}

static void fill_sync_opts(struct sync_opts *so, const struct pipeline_opts *o, const char *ns, const char *set,
			   FILE *out, const struct diag *d)
{
	*so = (struct sync_opts){
		.ns = ns,
		.set_name = set,
		.dry_run = o->dry_run,
		.prune = !o->no_prune,
		.wait = o->wait,
		.wait_timeout = o->wait_timeout > 0 ? o->wait_timeout : 300,
		.pull_secrets = o->pull_secrets,
		.n_pull_secrets = o->n_pull_secrets,
		.force = o->force_apply,
		.out = out,
		.diag = d,
		.dir = o->dir,
		.adopt = o->adopt,
		.take_over = o->take_over,
		.no_force_conflicts = o->no_force_conflicts,
		.allow_empty = o->allow_empty,
	};
}

int pipeline_apply(struct kube *k, const struct pipeline_opts *o, const char *ns, const char *set, json_t *objs,
		   const struct diag *d, struct sm_error *err)
{
	FILE *out = diag_progress_open(d);
	if (!out) {
		sm_error_set(err, NULL, 0, 0, "out of memory");
		return -1;
	}
	struct sync_opts so;
	fill_sync_opts(&so, o, ns, set, out, d);
	int rc = sync_apply(k, objs, &so, err);
	fclose(out);
	return rc;
}

/* sourcestate_edit_fn: apply's --source flags on the saved state. */
static int set_sources(json_t *state, void *arg, struct sm_error *err)
{
	const struct pipeline_opts *o = arg;
	for (size_t i = 0; i < o->n_sources; i++)
		if (vars_source_set(state, o->sources[i], err)) /* the render took them: no error here */
			return -1;
	return 0;
}

int pipeline_save_sources(struct kube *k, const struct pipeline_opts *o, const char *ns, const struct diag *d,
			  struct sm_error *err)
{
	json_t *state;
	int changed;
	if (!o->n_sources || o->dry_run)
		return 0;
	if (sourcestate_update(k, ns, set_sources, (void *)o, &state, &changed, err))
		return -1;
	if (changed)
		diag_say(d, DIAG_PROGRESS, "configmap/%s saved (--source: the dashboard and the agent keep the choice)",
			 SOURCESTATE_NAME);
	json_decref(state);
	return 0;
}

int pipeline_diff(struct kube *k, const struct pipeline_opts *o, const char *ns, const char *set, json_t *objs,
		  const struct diag *d, int *changes, struct sm_error *err)
{
	FILE *out = diag_progress_open(d);
	if (!out) {
		sm_error_set(err, NULL, 0, 0, "out of memory");
		return -1;
	}
	struct sync_opts so;
	fill_sync_opts(&so, o, ns, set, out, d);
	*changes = 0;
	int rc = sync_diff(k, objs, &so, out, changes, err);
	fclose(out);
	return rc;
}

void pipeline_prepared_free(struct pipeline_prepared *p)
{
	json_decref(p->objs);
	kube_free(p->k);
	pipeline_set_clear(&p->s);
	kubeconfig_free(&p->kc);
	memset(p, 0, sizeof *p);
}

int pipeline_prepare(const struct pipeline_opts *o, enum pipeline_mode mode, const struct diag *d,
		     struct pipeline_prepared *p, struct sm_error *err)
{
	memset(p, 0, sizeof *p);
	if (kubeconfig_load(o->kubeconfig, o->context, &p->kc, err))
		return -1;
	if (pipeline_load(o, p->kc.namespace, d, &p->s)) {
		kubeconfig_free(&p->kc);
		memset(p, 0, sizeof *p);
		sm_error_set(err, NULL, 0, 0, "render failed; nothing was changed");
		return -1;
	}
	json_t *saved = NULL;
	p->k = pipeline_connect(o, &p->kc, d, err);
	/* services switched to source mode (the dashboard's ConfigMap) stay so; --source flags win.
	 * The namespace is known before rendering, so the render runs once, with the saved state. */
	if (!p->k || sourcestate_load(p->k, p->s.ns, &saved, err))
		goto fail;
	lookup_use(p->k, NULL); /* templates' lookup reads the live cluster, as helm install's does (lookup.c) */
	int failed = pipeline_render(o, &p->s, json_object_size(saved) ? saved : NULL, d, &p->objs);
	lookup_use(NULL, NULL);
	json_decref(saved);
	saved = NULL;
	if (failed) {
		sm_error_set(err, NULL, 0, 0, "render failed; nothing was changed");
		goto fail;
	}
	if (pipeline_check_empty(o, mode == PIPELINE_DIFF ? "diff" : "apply", p->objs, err))
		goto fail;
	return 0;
fail:
	json_decref(saved);
	pipeline_prepared_free(p);
	return -1;
}

int pipeline_run(const struct pipeline_opts *o, enum pipeline_mode mode, const struct diag *d, int *changes, struct sm_error *err)
{
	struct pipeline_prepared p;
	if (pipeline_prepare(o, mode, d, &p, err))
		return -1;
	int rc;
	if (mode == PIPELINE_DIFF)
		rc = pipeline_diff(p.k, o, p.s.ns, p.s.set, p.objs, d, changes, err);
	else
		rc = pipeline_save_sources(p.k, o, p.s.ns, d, err) ||
		     pipeline_apply(p.k, o, p.s.ns, p.s.set, p.objs, d, err);
	pipeline_prepared_free(&p);
	return rc;
}
