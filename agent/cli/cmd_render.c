/* cmd_render.c — `appdeploy render`, and the flag parsing and rendering that diff and apply share with it. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_common.h"
#include "commands.h"
#include "kube.h"
#include "kubeconfig.h"
#include "log.h"
#include "render.h"
#include "vars.h"
#include "yamlemit.h"
#include "yamlval.h"

/* dashboard (#7): render errors go to cmd_errout when a thread set one (the dashboard shows them) */
__thread FILE *cmd_errout;
#define ERR_OUT (cmd_errout ? cmd_errout : stderr)

static void push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof **v);
	if (!nv)
		abort();
	*v = nv;
	(*v)[(*n)++] = s;
}

void cmd_opts_free(struct cmd_opts *c)
{
	free(c->var_files);
	free(c->vars);
	free(c->pull_secrets);
	free(c->sources);
	memset(c, 0, sizeof *c);
}

int cmd_opts_parse(int argc, char **argv, int sync_flags, struct cmd_opts *c)
{
	memset(c, 0, sizeof *c);
	c->wait_timeout = 300;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		/* flags that take a value accept both "--flag value" and "--flag=value" */
		static const char *with_value[] = {"-f", "--values", "-v", "--var", "-n", "--namespace", "-o", "--output",
						   "--set", "-c", "--context", "--kubeconfig", "-i",
						   "--imagepullsecret", "--timeout", "--concurrency", "--images",
						   "--source", NULL};
		const char *flag = a;
		char flagbuf[64];
		const char *eq = strchr(a, '=');
		if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof flagbuf) {
			memcpy(flagbuf, a, (size_t)(eq - a));
			flagbuf[eq - a] = 0;
			flag = flagbuf;
			val = eq + 1;
		}
		int takes = 0;
		for (size_t j = 0; with_value[j]; j++)
			takes |= !strcmp(flag, with_value[j]);
		if (takes && !val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "appdeploy %s: %s needs a value\n", argv[0], flag);
				cmd_opts_free(c);
				return 2;
			}
			val = argv[++i];
		}
		int sync_only = 0;
		if (!strcmp(flag, "-f") || !strcmp(flag, "--values"))
			push(&c->var_files, &c->n_var_files, val);
		else if (!strcmp(flag, "-v") || !strcmp(flag, "--var"))
			push(&c->vars, &c->n_vars, val);
		else if (!strcmp(flag, "-n") || !strcmp(flag, "--namespace"))
			c->ns = val;
		else if (!strcmp(flag, "--images"))
			c->images = val;
		else if (!strcmp(flag, "--source")) { /* source mode (#6): a bad value is a usage error */
			char err[256];
			json_t *scratch = json_object();
			int bad = vars_source_set(scratch, val, err, sizeof err);
			json_decref(scratch);
			if (bad) {
				fprintf(stderr, "appdeploy %s: --source %s\n", argv[0], err);
				cmd_opts_free(c);
				return 2;
			}
			push(&c->sources, &c->n_sources, val);
		}
		else if (!strcmp(flag, "--set"))
			c->set_name = val;
		else if (!strcmp(flag, "-c") || !strcmp(flag, "--context"))
			c->context = val;
		else if (!strcmp(flag, "--kubeconfig"))
			c->kubeconfig = val;
		else if (!strcmp(flag, "-i") || !strcmp(flag, "--imagepullsecret"))
			push(&c->pull_secrets, &c->n_pull_secrets, val);
		else if (!strcmp(flag, "-o") || !strcmp(flag, "--output")) {
			if (sync_flags)
				sync_only = -1;
			c->out = val;
		} else if (!strcmp(flag, "--dry-run"))
			c->dry_run = 1, sync_only = 1;
		else if (!strcmp(flag, "--no-prune"))
			c->no_prune = 1, sync_only = 1;
		else if (!strcmp(flag, "--force-apply"))
			c->force_apply = 1, sync_only = 1;
		else if (!strcmp(flag, "--adopt"))
			c->adopt = 1, sync_only = 1;
		else if (!strcmp(flag, "--take-over"))
			c->take_over = 1, sync_only = 1;
		else if (!strcmp(flag, "--no-force-conflicts"))
			c->no_force_conflicts = 1, sync_only = 1;
		else if (!strcmp(flag, "--allow-empty"))
			c->allow_empty = 1, sync_only = 1;
		else if (!strcmp(flag, "--wait"))
			c->wait = 1, sync_only = 1;
		else if (!strcmp(flag, "--timeout")) {
			char *end;
			c->wait_timeout = strtod(val, &end);
			if (end == val || c->wait_timeout <= 0 || (*end && strcmp(end, "s"))) {
				fprintf(stderr, "appdeploy %s: --timeout wants seconds, e.g. 300 or 300s\n", argv[0]);
				cmd_opts_free(c);
				return 2;
			}
			sync_only = 1;
		} else if (!strcmp(flag, "--concurrency")) {
			c->concurrency = atoi(val);
			sync_only = 1;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "appdeploy %s: unknown flag %s\n", argv[0], a);
			cmd_opts_free(c);
			return 2;
		} else if (!c->dir)
			c->dir = a;
		else {
			fprintf(stderr, "appdeploy %s: one DIR only (got \"%s\" and \"%s\")\n", argv[0], c->dir, a);
			cmd_opts_free(c);
			return 2;
		}
		if ((sync_only == 1 && !sync_flags) || sync_only == -1) {
			fprintf(stderr, "appdeploy %s: %s is not a flag of this command\n", argv[0], flag);
			cmd_opts_free(c);
			return 2;
		}
	}
	if (!c->dir) {
		fprintf(stderr, "appdeploy %s: which DIR? (usage: appdeploy %s DIR [flags])\n", argv[0], argv[0]);
		cmd_opts_free(c);
		return 2;
	}
	return 0;
}

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
	struct yv_error ye = {0};
	json_t *docs = text ? yv_load(text, len, src, 1, NULL, &ye) : yv_load_file(src, 1, NULL, &ye);
	free(text);
	if (!docs) {
		if (ye.line)
			fprintf(ERR_OUT, "appdeploy: %s:%d:%d: %s\n", src, ye.line, ye.col, ye.msg);
		else
			fprintf(ERR_OUT, "appdeploy: %s: %s\n", src, ye.msg);
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
	struct render_error re = {0};
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

static char *object_text(json_t *obj)
{
	return yaml_emit(obj, NULL);
}

static int write_all(const char *path, const char *text)
{
	char *tmp;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -1;
	FILE *f = fopen(tmp, "w");
	int rc = f && fputs(text, f) >= 0 ? 0 : -1;
	if (f && fclose(f))
		rc = -1;
	if (!rc && rename(tmp, path))
		rc = -1;
	if (rc) {
		fprintf(stderr, "appdeploy: %s: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* render -o DIR records the files it wrote in DIR/.appdeploy-render (one name a line): the next
 * render removes those it no longer writes, and never touches a file it did not write. */
#define RENDER_MANIFEST ".appdeploy-render"

/* A name render -o could have written: NNN-kind-name.yaml, no directory part. */
static int our_file_name(const char *s)
{
	size_t n = strlen(s);
	return n > 9 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
	       s[3] == '-' && !strchr(s, '/') && !strcmp(s + n - 5, ".yaml");
}

/* Removes the files the previous render listed that this one did not write (names: this render's). */
static void remove_stale(const char *out, char **names, size_t n)
{
	char *mpath;
	if (asprintf(&mpath, "%s/%s", out, RENDER_MANIFEST) < 0)
		return;
	FILE *f = fopen(mpath, "r");
	free(mpath);
	if (!f)
		return;
	char line[PATH_MAX];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!our_file_name(line))
			continue;
		int kept = 0;
		for (size_t i = 0; i < n && !kept; i++)
			kept = !strcmp(names[i], line);
		char *path;
		if (!kept && asprintf(&path, "%s/%s", out, line) >= 0) {
			if (unlink(path) && errno != ENOENT)
				fprintf(stderr, "appdeploy: removing %s (no longer rendered): %s\n", path, strerror(errno));
			free(path);
		}
	}
	fclose(f);
}

static int write_manifest(const char *out, char **names, size_t n)
{
	char *text = NULL, *mpath;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return -1;
	for (size_t i = 0; i < n; i++)
		fprintf(m, "%s\n", names[i]);
	fclose(m);
	int rc = -1;
	if (asprintf(&mpath, "%s/%s", out, RENDER_MANIFEST) >= 0) {
		rc = write_all(mpath, text);
		free(mpath);
	}
	free(text);
	return rc;
}

int cmd_render(int argc, char **argv)
{
	struct cmd_opts c;
	int rc = cmd_opts_parse(argc, argv, 0, &c);
	if (rc)
		return rc;
	/* the context's namespace is a fallback only: no kubeconfig is fine for render */
	struct kube_config kc;
	char kerr[512];
	const char *ctx_ns = NULL;
	int have_kc = !kubeconfig_load(c.kubeconfig, c.context, &kc, kerr, sizeof kerr);
	if (have_kc)
		ctx_ns = kc.namespace;
	json_t *objs;
	char *ns;
	rc = cmd_render_objects(&c, ctx_ns, &objs, &ns) ? 1 : 0;
	if (have_kc)
		kubeconfig_free(&kc);
	if (rc) {
		cmd_opts_free(&c);
		return rc;
	}
	const char *out = c.out ? c.out : "-";
	size_t i;
	json_t *e;
	if (!strcmp(out, "-")) {
		json_array_foreach(objs, i, e) {
			char *t = object_text(json_object_get(e, "object"));
			printf("---\n# Source: %s\n%s", json_string_value(json_object_get(e, "file")), t);
			free(t);
		}
	} else {
		if (mkdir(out, 0777) && errno != EEXIST) {
			fprintf(stderr, "appdeploy: %s: %s\n", out, strerror(errno));
			rc = 1;
		}
		size_t nnames = 0;
		char **names = calloc(json_array_size(objs) + 1, sizeof *names);
		json_array_foreach(objs, i, e) {
			if (rc)
				break;
			json_t *o = json_object_get(e, "object");
			char kind[128], *path;
			snprintf(kind, sizeof kind, "%s", json_string_value(json_object_get(o, "kind")));
			for (char *p = kind; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			if (asprintf(&path, "%s/%03zu-%s-%s.yaml", out, i, kind,
				     json_string_value(json_object_get(json_object_get(o, "metadata"), "name"))) < 0)
				break;
			char *t = object_text(o), *doc;
			if (asprintf(&doc, "# Source: %s\n%s", json_string_value(json_object_get(e, "file")), t) >= 0) {
				rc = write_all(path, doc) ? 1 : 0;
				free(doc);
			}
			free(t);
			names[nnames++] = strdup(strrchr(path, '/') + 1);
			free(path);
		}
		/* only once every file is written: a failed render leaves the previous files in place */
		if (!rc) {
			remove_stale(out, names, nnames);
			rc = write_manifest(out, names, nnames) ? 1 : 0;
		}
		for (size_t j = 0; j < nnames; j++)
			free(names[j]);
		free(names);
	}
	json_decref(objs);
	free(ns);
	cmd_opts_free(&c);
	return rc;
}
