/* chart_set.c — Helm charts inside a set's folder: rendered in chart mode and added, labelled, to the set's objects. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chart.h"
#include "chart_set.h"
#include "render.h"
#include "yamlval.h"

int chart_set_is_chart(const char *path)
{
	char p[8500];
	struct stat st;
	if (snprintf(p, sizeof p, "%s/Chart.yaml", path) < (int)sizeof p && !stat(p, &st) && S_ISREG(st.st_mode))
		return 1;
	size_t n = strlen(path);
	return n > 4 && !strcmp(path + n - 4, ".tgz") && !stat(path, &st) && S_ISREG(st.st_mode);
}

/* Labels one chart object as render.c labels a template's, and adds it to objs. */
static int add_object(json_t *objs, json_t *obj, const char *set_name, const char *rel, struct sm_error *err)
{
	json_t *md = json_object_get(obj, "metadata");
	if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "kind")) || !json_is_object(md) ||
	    !json_is_string(json_object_get(md, "name"))) {
		sm_error_set(err, NULL, 0, 0, "%s: a rendered document is not a Kubernetes object (kind and metadata.name)", rel);
		return -1;
	}
	json_t *labels = json_object_get(md, "labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(md, "labels", labels);
	}
	json_object_set_new(labels, RENDER_LABEL_MANAGED_BY, json_string(RENDER_MANAGED_BY));
	json_object_set_new(labels, RENDER_LABEL_SET, json_string(set_name));
	json_t *ann = json_object_get(md, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(md, "annotations", ann);
	}
	json_object_set_new(ann, RENDER_ANNOTATION_SOURCE, json_string(rel));
	json_array_append_new(objs, json_pack("{s:s, s:i, s:O}", "file", rel, "line", 1, "object", obj));
	return 0;
}

/* One chart at DIR/rel: values from the set's variable named like the chart, the set's data under global.sourcemode. */
static int render_one(const char *dir, const char *rel, json_t *data, const char *set_name, json_t *objs, struct sm_error *err)
{
	char path[8500];
	struct sm_error cerr;
	if (snprintf(path, sizeof path, "%s/%s", dir, rel) >= (int)sizeof path) {
		sm_error_set(err, NULL, 0, 0, "%s: path too long", rel);
		return -1;
	}
	struct chart *c = chart_load(path, &cerr);
	if (!c) {
		sm_error_set(err, NULL, 0, 0, "%s: %.2047s", path, cerr.msg); /* as its 2048-byte buffer cut it */
		return -1;
	}
	json_t *vars = json_object_get(data, "Variables");
	json_t *mine = json_object_get(vars, c->name);
	json_t *vals = json_is_object(mine) ? json_deep_copy(mine) : json_object();
	json_t *global = json_object_get(vals, "global");
	if (!json_is_object(global)) {
		global = json_object();
		json_object_set_new(vals, "global", global);
	}
	json_t *sm = json_object();
	const char *keys[] = {"Namespace", "Source", "Images", "SourceMode"};
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_object_get(data, keys[i]);
		char k[16];
		snprintf(k, sizeof k, "%c%s", keys[i][0] + 32, keys[i] + 1);
		json_object_set_new(sm, k, v ? json_deep_copy(v) : json_object());
	}
	json_object_set_new(global, "sourcemode", sm);
	struct chart_opts o = {.release = c->name,
			       .namespace_ = json_string_value(json_object_get(data, "Namespace")),
			       .values = vals};
	char *out = NULL;
	size_t len = 0;
	int rc = chart_template(c, &o, &out, &len, &cerr);
	json_decref(vals);
	chart_free(c);
	if (rc) {
		sm_error_set(err, NULL, 0, 0, "%s: %.2047s", path, cerr.msg); /* as its 2048-byte buffer cut it */
		return -1;
	}
	/* our own output: "---\n# Source: PATH\nDOC\n" per document */
	const char *p = out, *end = out + len;
	static const char MARK[] = "---\n# Source: ";
	rc = 0;
	while (!rc && p < end && !strncmp(p, MARK, sizeof MARK - 1)) {
		const char *src = p + sizeof MARK - 1, *nl = memchr(src, '\n', (size_t)(end - src));
		if (!nl)
			break;
		const char *next = nl + 1;
		while (next < end && strncmp(next, MARK, sizeof MARK - 1))
			next = (const char *)memchr(next, '\n', (size_t)(end - next)) ? (const char *)memchr(next, '\n', (size_t)(end - next)) + 1 : end;
		char srel[8500];
		const char *slash = memchr(src, '/', (size_t)(nl - src)); /* drop the chart name Helm puts first */
		int sl = slash ? (int)(nl - slash - 1) : (int)(nl - src);
		if (sl > 4096 || snprintf(srel, sizeof srel, "%s/%.*s", rel, sl, slash ? slash + 1 : src) >= (int)sizeof srel)
			break;
		struct sm_error ye = {0};
		json_t *docs = yv_load(nl + 1, (size_t)(next - nl - 1), srel, 1, NULL, &ye);
		if (!docs) {
			sm_error_set(err, NULL, 0, 0, "%s: rendered output is not valid YAML: %s", srel, sm_error_what(&ye));
			rc = -1;
			break;
		}
		size_t i;
		json_t *obj;
		json_array_foreach(docs, i, obj) if (!rc && !json_is_null(obj)) rc = add_object(objs, obj, set_name, srel, err);
		json_decref(docs);
		p = next;
	}
	free(out);
	return rc;
}

static int cmp_names(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int walk(const char *dir, const char *rel, json_t *data, const char *set_name, json_t *objs, struct sm_error *err, int *count, int depth)
{
	char path[8500];
	if (snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel) >= (int)sizeof path)
		return 0;
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, cmp_names);
	if (n < 0)
		return 0; /* render.c reports unreadable folders */
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (!rc && nm[0] != '.' && depth < 32) {
			char r[4200], p[8500];
			struct stat st;
			if (snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", nm) >= (int)sizeof r ||
			    snprintf(p, sizeof p, "%s/%s", dir, r) >= (int)sizeof p) {
				/* too deep to name: render.c reports such paths */
			} else if (!stat(p, &st) && chart_set_is_chart(p)) {
				(*count)++;
				if (objs)
					rc = render_one(dir, r, data, set_name, objs, err);
			} else if (!stat(p, &st) && S_ISDIR(st.st_mode)) {
				rc = walk(dir, r, data, set_name, objs, err, count, depth + 1);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int chart_set_render(const char *dir, json_t *data, const char *set_name, json_t *objs, struct sm_error *err)
{
	int count = 0;
	return walk(dir, "", data, set_name, objs, err, &count, 0);
}

int chart_set_count(const char *dir)
{
	int count = 0;
	struct sm_error err;
	walk(dir, "", NULL, "", NULL, &err, &count, 0);
	return count;
}
