/* render.c — walks a manifest folder, executes its templates, splits, checks and labels the objects. */
#include "render.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chart.h"
#include "chart_set.h"
#include "slurp.h"
#include "tmpl.h"
#include "yamlval.h"

struct rfile {
	char *rel;  /* path relative to DIR: the template's name */
	char *path; /* DIR/rel */
	int exec;   /* 1: a manifest template, 0: definitions only */
};

struct flist {
	struct rfile *v;
	size_t n, cap;
};

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static int walk(const char *dir, const char *rel, struct flist *fl, struct sm_error *err)
{
	char *path;
	if (asprintf(&path, "%s%s%s", dir, *rel ? "/" : "", rel) < 0)
		return -1;
	DIR *d = opendir(path);
	if (!d) {
		sm_error_set(err, path, 0, 0, "%s", strerror(errno));
		free(path);
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *r, *p;
		if (asprintf(&r, "%s%s%s", rel, *rel ? "/" : "", e->d_name) < 0)
			break;
		if (asprintf(&p, "%s/%s", path, e->d_name) < 0) {
			free(r);
			break;
		}
		struct stat st;
		if (stat(p, &st)) {
			sm_error_set(err, p, 0, 0, "%s", strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = chart_set_is_chart(p) ? 0 : walk(dir, r, fl, err); /* charts render in chart mode (chart_set.c) */
		} else if (S_ISREG(st.st_mode) && (has_suffix(e->d_name, ".yaml") || has_suffix(e->d_name, ".yml") ||
						   has_suffix(e->d_name, ".tpl"))) {
			/* DIR/variables.yaml is the data, not a template */
			int is_vars = !*rel && (!strcmp(e->d_name, "variables.yaml") || !strcmp(e->d_name, "variables.yml"));
			if (!is_vars) {
				if (fl->n == fl->cap) {
					fl->cap = fl->cap ? fl->cap * 2 : 16;
					fl->v = realloc(fl->v, fl->cap * sizeof *fl->v);
				}
				fl->v[fl->n++] = (struct rfile){
					.rel = r,
					.path = p,
					.exec = e->d_name[0] != '_' && !has_suffix(e->d_name, ".tpl"),
				};
				continue;
			}
		}
		free(r);
		free(p);
	}
	closedir(d);
	free(path);
	return rc;
}

static int cmp_rfile(const void *a, const void *b)
{
	return strcmp(((const struct rfile *)a)->rel, ((const struct rfile *)b)->rel);
}

int render_valid_label_value(const char *s)
{
	size_t n = strlen(s);
	if (n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && ((i == 0 || i == n - 1) || (c != '-' && c != '_' && c != '.')))
			return 0;
	}
	return 1;
}

/* Position of a document's node in the rendered text, as "LINE:COL" numbers. */
static void doc_pos_at(json_t *pos, size_t doc, const char *sub, int want_key, int *line, int *col)
{
	char ptr[1024];
	snprintf(ptr, sizeof ptr, "%zu%s%s", doc, sub ? "/" : "", sub ? sub : "");
	*line = *col = 0;
	if (yv_position(pos, ptr, want_key, line, col) && !*line)
		*line = 1, *col = 1;
}

/* Where a node starts: its key for mapping values (where a reader looks for a missing field). */
static void doc_pos(json_t *pos, size_t doc, const char *sub, int *line, int *col)
{
	doc_pos_at(pos, doc, sub, 1, line, col);
}

/* Checks one rendered document and labels it. Returns 0 or -1 with err filled. */
static int check_object(const char *path, json_t *obj, json_t *pos, size_t doc, const char *set_name, const char *rel,
			struct sm_error *err)
{
	int line, col;
	doc_pos(pos, doc, NULL, &line, &col);
	if (!json_is_object(obj)) {
		sm_error_set(err, path, line, col, "rendered document %zu is not a mapping (a Kubernetes object)",
			     doc + 1);
		return -1;
	}
	static const char *required[] = {"apiVersion", "kind"};
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(obj, required[i]);
		if (!json_is_string(v) || !*json_string_value(v)) {
			if (v)
				doc_pos_at(pos, doc, required[i], 0, &line, &col);
			sm_error_set(err, path, line, col, "rendered document %zu: %s %s", doc + 1, required[i],
				     v ? "must be a non-empty string" : "is missing");
			return -1;
		}
	}
	json_t *md = json_object_get(obj, "metadata");
	json_t *name = json_object_get(md, "name");
	if (!json_is_object(md) || !json_is_string(name) || !*json_string_value(name)) {
		if (md)
			doc_pos(pos, doc, name ? "metadata/name" : "metadata", &line, &col);
		sm_error_set(err, path, line, col, "rendered %s (document %zu): metadata.name %s",
			     json_string_value(json_object_get(obj, "kind")), doc + 1,
			     name ? "must be a non-empty string" : "is missing");
		return -1;
	}
	json_t *labels = json_object_get(md, "labels");
	if (labels && !json_is_object(labels) && !json_is_null(labels)) {
		doc_pos(pos, doc, "metadata/labels", &line, &col);
		sm_error_set(err, path, line, col, "%s %s: metadata.labels must be a mapping",
			     json_string_value(json_object_get(obj, "kind")), json_string_value(name));
		return -1;
	}
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(md, "labels", labels);
	}
	const char *key;
	json_t *v;
	json_object_foreach(labels, key, v) {
		if (!json_is_string(v)) {
			/* JSON pointer escaping: label keys often hold a '/' */
			char ptr[800];
			size_t n = (size_t)snprintf(ptr, sizeof ptr, "metadata/labels/");
			for (const char *k = key; *k && n + 3 < sizeof ptr; k++) {
				if (*k == '~' || *k == '/') {
					ptr[n++] = '~';
					ptr[n++] = *k == '~' ? '0' : '1';
				} else {
					ptr[n++] = *k;
				}
			}
			ptr[n] = 0;
			doc_pos_at(pos, doc, ptr, 0, &line, &col);
			sm_error_set(err, path, line, col, "%s %s: label %s must be a string (quote it)",
				     json_string_value(json_object_get(obj, "kind")), json_string_value(name), key);
			return -1;
		}
	}
	json_object_set_new(labels, RENDER_LABEL_MANAGED_BY, json_string(RENDER_MANAGED_BY));
	json_object_set_new(labels, RENDER_LABEL_SET, json_string(set_name));
	json_t *ann = json_object_get(md, "annotations");
	if (ann && !json_is_object(ann) && !json_is_null(ann)) {
		doc_pos(pos, doc, "metadata/annotations", &line, &col);
		sm_error_set(err, path, line, col, "metadata.annotations must be a mapping");
		return -1;
	}
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(md, "annotations", ann);
	}
	json_object_set_new(ann, RENDER_ANNOTATION_SOURCE, json_string(rel));
	return 0;
}

int render_dir(const char *dir, json_t *data, const char *set_name, json_t **out, struct sm_error *err)
{
	return render_dir_funcs(dir, data, set_name, NULL, 0, out, err);
}

int render_dir_funcs(const char *dir, json_t *data, const char *set_name, const struct render_func *funcs, size_t nfuncs,
		     json_t **out, struct sm_error *err)
{
	*out = NULL;
	if (!render_valid_label_value(set_name) || !*set_name) {
		sm_error_set(
			err, NULL, 0, 0,
			"set name \"%s\" is not a valid label value (63 characters at most: letters, digits, '-', '_', '.')",
			set_name);
		return -1;
	}
	struct flist fl = {0};
	int rc = walk(dir, "", &fl, err);
	struct tmpl_set *set = tmpl_set_new();
	helm_install_funcs(set);
	json_t *objs = json_array();
	if (!rc) {
		if (fl.n)
			qsort(fl.v, fl.n, sizeof *fl.v, cmp_rfile);
		tmpl_set_missingkey_error(set, 1);
		for (size_t i = 0; !rc && i < nfuncs; i++)
			if (tmpl_set_funcs_ctx(set, funcs[i].fn, 1, funcs[i].ctx)) {
				sm_error_set(err, NULL, 0, 0,
					     "template function \"%s\": a name must be an identifier (letters, digits, '_')",
					     funcs[i].fn->name ? funcs[i].fn->name : "");
				rc = -1;
			}
	}
	size_t nexec = 0;
	for (size_t i = 0; !rc && i < fl.n; i++) {
		size_t len;
		char *text = slurp(fl.v[i].path, 0, &len);
		if (!text) {
			sm_error_set(err, fl.v[i].path, 0, 0, "%s", strerror(errno));
			rc = -1;
			break;
		}
		struct sm_error te = {0};
		if (tmpl_parse(set, fl.v[i].rel, text, len, &te)) {
			*err = te;
			rc = -1;
		}
		nexec += fl.v[i].exec;
		free(text);
	}
	if (!rc && !nexec && !chart_set_count(dir)) {
		sm_error_set(err, dir, 0, 0, "no manifest templates (*.yaml, *.yml) found");
		rc = -1;
	}
	for (size_t i = 0; !rc && i < fl.n; i++) {
		if (!fl.v[i].exec)
			continue;
		struct sm_error te = {0};
		char *text = NULL;
		size_t len = 0;
		if (tmpl_execute(set, fl.v[i].rel, data, &text, &len, &te)) {
			*err = te;
			rc = -1;
			break;
		}
		struct sm_error ye = {0};
		json_t *pos = NULL;
		json_t *docs = yv_load(text, len, fl.v[i].path, 0, &pos, &ye);
		free(text);
		if (!docs) {
			sm_error_set(err, fl.v[i].path, ye.line, ye.col, "rendered output is not valid YAML: %s",
				     sm_error_what(&ye));
			rc = -1;
			break;
		}
		size_t d;
		json_t *obj;
		json_array_foreach(docs, d, obj) {
			if (json_is_null(obj))
				continue; /* an empty render, e.g. a disabled {{if}} */
			if (check_object(fl.v[i].path, obj, pos, d, set_name, fl.v[i].rel, err)) {
				rc = -1;
				break;
			}
			int line, col;
			doc_pos(pos, d, NULL, &line, &col);
			json_array_append_new(objs, json_pack("{s:s, s:i, s:O}", "file", fl.v[i].rel, "line", line,
							      "object", obj));
		}
		json_decref(docs);
		json_decref(pos);
	}
	if (!rc && chart_set_render(dir, data, set_name, objs, err))
		rc = -1;
	tmpl_set_free(set);
	for (size_t i = 0; i < fl.n; i++) {
		free(fl.v[i].rel);
		free(fl.v[i].path);
	}
	free(fl.v);
	if (rc) {
		json_decref(objs);
		return -1;
	}
	*out = objs;
	return 0;
}
