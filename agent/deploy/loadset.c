/* loadset.c — a set's template data from the flags (variables, images, source mode) and its render (render.c). */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kube.h"
#include "loadset.h"
#include "render.h"
#include "vars.h"
#include "yamlval.h"

/* dashboard (#7): render errors go to cmd_errout when a thread set one (the dashboard shows them) */
__thread FILE *cmd_errout;
#define ERR_OUT (cmd_errout ? cmd_errout : stderr)

/* .Images: a YAML/JSON file, or an http(s) URL answering one. NULL when not given; -1 on error. */
static int load_images(const char *src, json_t **out)
{
	*out = NULL;
	if (!src)
		return 0;
	char err[1024];
	char *text = NULL;
	size_t len = 0;
	if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8)) {
		if (kube_fetch_url(src, &text, &len, err, sizeof err)) {
			fprintf(ERR_OUT, "appdeploy: --images %s: %s\n", src, err);
			return -1;
		}
	}
	struct sm_error ye = {0};
	json_t *docs = text ? yv_load(text, len, src, 1, NULL, &ye) : yv_load_file(src, 1, NULL, &ye);
	free(text);
	if (!docs) {
		fprintf(ERR_OUT, "appdeploy: %s\n", ye.msg); /* "SRC:LINE:COL: what" */
		return -1;
	}
	*out = json_array_size(docs) == 1 ? json_incref(json_array_get(docs, 0)) : json_incref(docs);
	json_decref(docs);
	return 0;
}

/* The template data, built by vars.c: .Variables (DIR/variables.yaml < -f files < -v), .Namespace,
 * .ImagePullSecrets, .Images and .Source. */
static json_t *build_data(const struct cmd_opts *c)
{
	json_t *images;
	char err[1024];
	if (load_images(c->images, &images))
		return NULL;
	/* source mode (#6): .Source from --source flags */
	/* #7: the cluster's saved state (ConfigMap appdeploy-source-mode) first, the flags override it */
	json_t *source = c->source_base ? json_deep_copy(c->source_base) : json_object();
	for (size_t i = 0; i < c->n_sources; i++)
		if (vars_source_set(source, c->sources[i], err, sizeof err)) {
			fprintf(ERR_OUT, "appdeploy: --source: %s\n", err);
			json_decref(images);
			json_decref(source);
			return NULL;
		}
	struct vars_opts vo = {
		.dir = c->dir,
		.files = c->var_files,
		.nfiles = c->n_var_files,
		.sets = c->vars,
		.nsets = c->n_vars,
		.namespace_ = c->ns,
		.pull_secrets = c->pull_secrets,
		.npull_secrets = c->n_pull_secrets,
		.images = images,
		.source = source,
	};
	json_t *data = vars_build(&vo, err, sizeof err);
	json_decref(images);
	json_decref(source);
	if (!data)
		fprintf(ERR_OUT, "appdeploy: %s\n", err);
	return data;
}

/* The namespace: -n, else the `namespace` variable (both settled by vars.c), else the kubeconfig
 * context's, else "default". */
static char *pick_namespace(json_t *data, const char *ctx_ns)
{
	const char *v = json_string_value(json_object_get(data, "Namespace"));
	if (v && *v)
		return strdup(v);
	if (ctx_ns && *ctx_ns)
		return strdup(ctx_ns);
	return strdup("default");
}

int cmd_render_objects(const struct cmd_opts *c, const char *ctx_ns, json_t **objs, char **ns_out)
{
	*objs = NULL;
	*ns_out = NULL;
	struct stat st;
	if (stat(c->dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(ERR_OUT, "appdeploy: %s: %s\n", c->dir, errno ? strerror(errno) : "not a directory");
		return -1;
	}
	json_t *data = build_data(c);
	if (!data)
		return -1;
	char *ns = pick_namespace(data, ctx_ns);
	json_object_set_new(data, "Namespace", json_string(ns));
	char set_buf[PATH_MAX];
	const char *set = c->set_name;
	if (!set) {
		cmd_default_set_name(c->dir, set_buf, sizeof set_buf);
		set = set_buf;
	}
	struct sm_error re = {0};
	int rc = render_dir(c->dir, data, set, objs, &re);
	json_decref(data);
	if (rc) {
		fprintf(ERR_OUT, "appdeploy: %s\n", re.msg);
		free(ns);
		return -1;
	}
	*ns_out = ns;
	return 0;
}

void cmd_default_set_name(const char *dir, char *out, size_t cap)
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
