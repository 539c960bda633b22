/* cmd_render.c — `appdeploy render`, the flag parsing render, diff, apply, serve and dev share, and the CLI sink. */
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

/* The CLI's sink (cmd_common.h): what the pipeline reports, printed as appdeploy always has. */
static void cli_diag(void *arg, enum diag_kind kind, const char *text)
{
	(void)arg;
	if (kind == DIAG_PROGRESS)
		printf("%s\n", text);
	else if (kind == DIAG_RENDER)
		fprintf(stderr, "appdeploy: %s\n", text);
	else if (kind == DIAG_WARN)
		log_warn("%s", text);
	else
		log_error("%s", text);
}

const struct diag cmd_diag = {cli_diag, NULL};

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
	struct pipeline_opts *p = &c->pl;
	p->wait_timeout = 300;
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
			p->ns = val;
		else if (!strcmp(flag, "--images"))
			p->images = val;
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
			p->set_name = val;
		else if (!strcmp(flag, "-c") || !strcmp(flag, "--context"))
			p->context = val;
		else if (!strcmp(flag, "--kubeconfig"))
			p->kubeconfig = val;
		else if (!strcmp(flag, "-i") || !strcmp(flag, "--imagepullsecret"))
			push(&c->pull_secrets, &c->n_pull_secrets, val);
		else if (!strcmp(flag, "-o") || !strcmp(flag, "--output")) {
			if (sync_flags)
				sync_only = -1;
			c->out = val;
		} else if (!strcmp(flag, "--dry-run"))
			p->dry_run = 1, sync_only = 1;
		else if (!strcmp(flag, "--no-prune"))
			p->no_prune = 1, sync_only = 1;
		else if (!strcmp(flag, "--force-apply"))
			p->force_apply = 1, sync_only = 1;
		else if (!strcmp(flag, "--adopt"))
			p->adopt = 1, sync_only = 1;
		else if (!strcmp(flag, "--take-over"))
			p->take_over = 1, sync_only = 1;
		else if (!strcmp(flag, "--no-force-conflicts"))
			p->no_force_conflicts = 1, sync_only = 1;
		else if (!strcmp(flag, "--allow-empty"))
			p->allow_empty = 1, sync_only = 1;
		else if (!strcmp(flag, "--wait"))
			p->wait = 1, sync_only = 1;
		else if (!strcmp(flag, "--timeout")) {
			char *end;
			p->wait_timeout = strtod(val, &end);
			if (end == val || p->wait_timeout <= 0 || (*end && strcmp(end, "s"))) {
				fprintf(stderr, "appdeploy %s: --timeout wants seconds, e.g. 300 or 300s\n", argv[0]);
				cmd_opts_free(c);
				return 2;
			}
			sync_only = 1;
		} else if (!strcmp(flag, "--concurrency")) {
			p->concurrency = atoi(val);
			sync_only = 1;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "appdeploy %s: unknown flag %s\n", argv[0], a);
			cmd_opts_free(c);
			return 2;
		} else if (!p->dir)
			p->dir = a;
		else {
			fprintf(stderr, "appdeploy %s: one DIR only (got \"%s\" and \"%s\")\n", argv[0], p->dir, a);
			cmd_opts_free(c);
			return 2;
		}
		if ((sync_only == 1 && !sync_flags) || sync_only == -1) {
			fprintf(stderr, "appdeploy %s: %s is not a flag of this command\n", argv[0], flag);
			cmd_opts_free(c);
			return 2;
		}
	}
	if (!p->dir) {
		fprintf(stderr, "appdeploy %s: which DIR? (usage: appdeploy %s DIR [flags])\n", argv[0], argv[0]);
		cmd_opts_free(c);
		return 2;
	}
	/* the arrays are complete: the pipeline's view of them */
	p->var_files = c->var_files, p->n_var_files = c->n_var_files;
	p->vars = c->vars, p->n_vars = c->n_vars;
	p->pull_secrets = c->pull_secrets, p->n_pull_secrets = c->n_pull_secrets;
	p->sources = c->sources, p->n_sources = c->n_sources;
	const char *ps = getenv("APPDEPLOY_PAGE_SIZE"); /* lets tests exercise pagination */
	if (ps && atoi(ps) > 0)
		p->page_size = atoi(ps);
	return 0;
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
	int have_kc = !kubeconfig_load(c.pl.kubeconfig, c.pl.context, &kc, kerr, sizeof kerr);
	if (have_kc)
		ctx_ns = kc.namespace;
	json_t *objs;
	char *ns;
	rc = pipeline_render_local(&c.pl, ctx_ns, &cmd_diag, &objs, &ns) ? 1 : 0;
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
