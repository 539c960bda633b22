/* cmd_render.c — `appdeploy render`: the pipeline's render, printed as one YAML stream or written to -o DIR. */
#include <ctype.h>
#include <errno.h>
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
#include "yamlemit.h"

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
	struct sm_error kerr;
	const char *ctx_ns = NULL;
	int have_kc = !kubeconfig_load(c.pl.kubeconfig, c.pl.context, &kc, &kerr);
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
