/* chart_load.c — reads a Helm chart (folder or .tgz) as Helm's loader does: .helmignore, Chart.yaml, values, templates, charts/. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "chart.h"
#include "slurp.h"
#include "tmpl_node.h"
#include "yamlval.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (!d)
		abort();
	return d;
}

struct flist {
	struct chart_file *f;
	size_t n, cap;
};

static void fl_add(struct flist *l, const char *name, char *data, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->f = xrealloc(l->f, l->cap * sizeof *l->f);
	}
	l->f[l->n].name = xstrndup(name, strlen(name));
	l->f[l->n].data = data;
	l->f[l->n].len = len;
	l->n++;
}

static void fl_free(struct flist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->f[i].name);
		free(l->f[i].data);
	}
	free(l->f);
}

/* ---- .helmignore (Helm's pkg/ignore) ---- */

struct ignore_rule {
	char *pat;
	int negate, must_dir, rooted, structural;
};

struct ignore {
	struct ignore_rule *r;
	size_t n;
};

static int ignore_parse(struct ignore *ig, const char *text, size_t len, struct sm_error *err)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *a = p, *b = le;
		while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
			b--;
		p = nl ? nl + 1 : end;
		if (a == b || *a == '#')
			continue;
		char *rule = xstrndup(a, (size_t)(b - a));
		if (strstr(rule, "**")) {
			free(rule);
			sm_error_set(err, NULL, 0, 0, "double-star (**) syntax is not supported");
			return -1;
		}
		struct ignore_rule r = {0};
		char *s = rule;
		if (*s == '!') {
			r.negate = 1;
			s++;
		}
		size_t sl = strlen(s);
		if (sl && s[sl - 1] == '/') {
			r.must_dir = 1;
			s[--sl] = 0;
		}
		if (*s == '/') {
			r.rooted = 1;
			s++;
		} else if (strchr(s, '/')) {
			r.structural = 1;
		}
		r.pat = xstrndup(s, strlen(s));
		free(rule);
		ig->r = xrealloc(ig->r, (ig->n + 1) * sizeof *ig->r);
		ig->r[ig->n++] = r;
	}
	return 0;
}

static int rule_match(const struct ignore_rule *r, const char *path)
{
	const char *n = path;
	if (!r->rooted && !r->structural) {
		const char *s = strrchr(path, '/');
		n = s ? s + 1 : path;
	}
	return fnmatch(r->pat, n, FNM_PATHNAME) == 0;
}

static int ignored(const struct ignore *ig, const char *path, int is_dir)
{
	for (size_t i = 0; i < ig->n; i++) {
		const struct ignore_rule *r = &ig->r[i];
		if (r->negate) {
			if (r->must_dir && !is_dir)
				return 1;
			if (!rule_match(r, path))
				return 1;
			continue;
		}
		if (r->must_dir && !is_dir)
			continue;
		if (rule_match(r, path))
			return 1;
	}
	return 0;
}

static void ignore_free(struct ignore *ig)
{
	for (size_t i = 0; i < ig->n; i++)
		free(ig->r[i].pat);
	free(ig->r);
}

/* ---- reading ---- */

static int cmp_names(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

/* Go's filepath.Walk in lexical order, following symbolic links as Helm's sympath does. */
static int walk_dir(const char *root, const char *rel, const struct ignore *ig, struct flist *out, struct sm_error *err, int depth)
{
	char dir[8448];
	snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, cmp_names);
	if (n < 0) {
		sm_error_set(err, NULL, 0, 0, "open %s: %s", dir, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (rc || !strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		char relp[4096], full[8448];
		snprintf(relp, sizeof relp, "%s%s%s", rel, *rel ? "/" : "", nm);
		snprintf(full, sizeof full, "%s/%s", root, relp);
		struct stat st;
		if (stat(full, &st)) {
			sm_error_set(err, NULL, 0, 0, "stat %s: %s", full, strerror(errno));
			rc = -1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (ignored(ig, relp, 1))
				continue;
			if (depth > 64) {
				sm_error_set(err, NULL, 0, 0, "%s: folders nest too deeply (a symbolic link loop?)", full);
				rc = -1;
				continue;
			}
			rc = walk_dir(root, relp, ig, out, err, depth + 1);
			continue;
		}
		if (ignored(ig, relp, 0))
			continue;
		size_t len;
		char *data = slurp(full, 0, &len);
		if (!data) {
			sm_error_set(err, NULL, 0, 0, "error reading %s: %s", relp, strerror(errno));
			rc = -1;
			continue;
		}
		fl_add(out, relp, data, len);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

/* ---- .tgz ---- */

static char *gunzip(const char *data, size_t len, size_t *outlen, struct sm_error *err)
{
	z_stream zs = {0};
	if (inflateInit2(&zs, 15 + 32) != Z_OK) {
		sm_error_set(err, NULL, 0, 0, "gzip: cannot initialise zlib");
		return NULL;
	}
	size_t cap = len * 4 + 4096, n = 0;
	char *out = xrealloc(NULL, cap);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (unsigned)len;
	int r;
	do {
		if (n >= (size_t)100 << 20) { /* Helm's limit on a decompressed chart */
			inflateEnd(&zs);
			free(out);
			sm_error_set(err, NULL, 0, 0, "decompressed chart is larger than the maximum size 104857600");
			return NULL;
		}
		if (n == cap)
			out = xrealloc(out, cap *= 2);
		zs.next_out = (unsigned char *)out + n;
		zs.avail_out = (unsigned)(cap - n);
		r = inflate(&zs, Z_NO_FLUSH);
		n = cap - zs.avail_out;
		if (r == Z_BUF_ERROR && zs.avail_in == 0)
			break;
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
			inflateEnd(&zs);
			free(out);
			sm_error_set(err, NULL, 0, 0, "gzip: invalid header");
			return NULL;
		}
	} while (r != Z_STREAM_END);
	inflateEnd(&zs);
	if (r != Z_STREAM_END) {
		free(out);
		sm_error_set(err, NULL, 0, 0, "unexpected EOF");
		return NULL;
	}
	*outlen = n;
	return out;
}

static size_t octal(const char *s, size_t n)
{
	size_t v = 0;
	for (size_t i = 0; i < n && s[i]; i++)
		if (s[i] >= '0' && s[i] <= '7')
			v = v * 8 + (size_t)(s[i] - '0');
	return v;
}

/* Helm's LoadArchive: the files under the archive's top folder (its name is dropped). */
static int untar(const char *tar, size_t len, struct flist *out, struct sm_error *err)
{
	size_t off = 0;
	char longname[4096] = "";
	while (off + 512 <= len) {
		const char *h = tar + off;
		int zero = 1;
		for (int i = 0; i < 512 && zero; i++)
			zero = !h[i];
		if (zero)
			break;
		size_t size = octal(h + 124, 12);
		char type = h[156];
		char name[4096];
		if (longname[0]) {
			snprintf(name, sizeof name, "%s", longname);
			longname[0] = 0;
		} else if (!memcmp(h + 257, "ustar", 5) && h[345]) {
			snprintf(name, sizeof name, "%.155s/%.100s", h + 345, h);
		} else {
			snprintf(name, sizeof name, "%.100s", h);
		}
		off += 512;
		if (off + size > len) {
			sm_error_set(err, NULL, 0, 0, "unexpected EOF");
			return -1;
		}
		if (type == 'L') {
			snprintf(longname, sizeof longname, "%.*s", (int)(size < sizeof longname ? size : sizeof longname - 1),
				 tar + off);
		} else if (type == '0' || type == 0) {
			const char *slash = strchr(name, '/');
			if (slash && slash[1]) {
				const char *rel = slash + 1;
				if (strstr(rel, "..") == rel || strstr(rel, "/../")) {
					sm_error_set(err, NULL, 0, 0, "chart illegally references parent directory");
					return -1;
				}
				char *data = xrealloc(NULL, size + 1);
				memcpy(data, tar + off, size);
				data[size] = 0;
				fl_add(out, rel, data, size);
			}
		}
		off += (size + 511) / 512 * 512;
	}
	return 0;
}

void chart_yaml_error(struct sm_error *err, const char *prefix, const struct sm_error *ye)
{
	char line[32] = "";
	if (ye->go_line)
		snprintf(line, sizeof line, "line %d: ", ye->go_line);
	/* yaml.v2 words an error with libyaml's problem alone, without its context ("while parsing ...") */
	const char *what = sm_error_what(ye);
	const char *ctx = strstr(what, " while ");
	int ml = ctx ? (int)(ctx - what) : (int)strlen(what);
	sm_error_set(err, NULL, 0, 0, "%s: error converting YAML to JSON: yaml: %s%.*s", prefix, line, ml, what);
}

/* ---- Chart.yaml ---- */

static json_t *str_or_empty(json_t *v)
{
	if (json_is_string(v))
		return json_incref(v);
	if (json_is_integer(v))
		return json_sprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v)) {
		struct sbuf b = {0};
		go_format_float(&b, json_real_value(v), 'g', -1);
		char *s = sb_take(&b);
		json_t *r = json_string(s);
		free(s);
		return r;
	}
	if (json_is_boolean(v))
		return json_string(json_is_true(v) ? "true" : "false");
	return json_string("");
}

static json_t *str_list(json_t *v)
{
	json_t *out = json_array();
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x) json_array_append_new(out, str_or_empty(x));
	return out;
}

/* Chart.yaml keys -> Go's chart.Metadata fields (zero values for absent ones). */
static json_t *go_metadata(json_t *y)
{
	static const char *const strs[][2] = {
		{"name", "Name"},		{"home", "Home"},	  {"version", "Version"},
		{"description", "Description"}, {"icon", "Icon"},	  {"apiVersion", "APIVersion"},
		{"condition", "Condition"},	{"tags", "Tags"},	  {"appVersion", "AppVersion"},
		{"kubeVersion", "KubeVersion"}, {"type", "Type"},
	};
	json_t *m = json_object();
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		json_object_set_new(m, strs[i][1], str_or_empty(json_object_get(y, strs[i][0])));
	json_object_set_new(m, "Sources", str_list(json_object_get(y, "sources")));
	json_object_set_new(m, "Keywords", str_list(json_object_get(y, "keywords")));
	json_object_set_new(m, "Deprecated", json_boolean(json_is_true(json_object_get(y, "deprecated"))));
	json_t *ann = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(y, "annotations"), k, v) json_object_set_new(ann, k, str_or_empty(v));
	json_object_set_new(m, "Annotations", ann);
	json_t *maint = json_array();
	size_t i;
	json_array_foreach(json_object_get(y, "maintainers"), i, v)
	{
		json_t *o = json_object();
		json_object_set_new(o, "Name", str_or_empty(json_object_get(v, "name")));
		json_object_set_new(o, "Email", str_or_empty(json_object_get(v, "email")));
		json_object_set_new(o, "URL", str_or_empty(json_object_get(v, "url")));
		json_array_append_new(maint, o);
	}
	json_object_set_new(m, "Maintainers", maint);
	json_t *deps = json_array();
	json_array_foreach(json_object_get(y, "dependencies"), i, v)
	{
		json_t *o = json_object();
		json_object_set_new(o, "Name", str_or_empty(json_object_get(v, "name")));
		json_object_set_new(o, "Version", str_or_empty(json_object_get(v, "version")));
		json_object_set_new(o, "Repository", str_or_empty(json_object_get(v, "repository")));
		json_object_set_new(o, "Condition", str_or_empty(json_object_get(v, "condition")));
		json_object_set_new(o, "Tags", str_list(json_object_get(v, "tags")));
		json_object_set_new(o, "Enabled", json_false());
		json_t *iv = json_object_get(v, "import-values");
		json_object_set_new(o, "ImportValues", iv ? json_deep_copy(iv) : json_array());
		json_object_set_new(o, "Alias", str_or_empty(json_object_get(v, "alias")));
		json_array_append_new(deps, o);
	}
	json_object_set_new(m, "Dependencies", deps);
	return m;
}

static const char *mstr(json_t *meta, const char *k) { return json_string_value(json_object_get(meta, k)); }

static int valid_semver(const char *v)
{
	struct sm_error e;
	return tmpl_semver_compare("*", v, strlen(v), &e) >= 0;
}

static int validate(struct chart *c, struct sm_error *err)
{
	const char *api = mstr(c->meta, "APIVersion"), *name = mstr(c->meta, "Name"), *ver = mstr(c->meta, "Version");
	const char *type = mstr(c->meta, "Type");
	if (!*api)
		return sm_error_set(err, NULL, 0, 0, "validation: chart.metadata.apiVersion is required"), -1;
	if (!*name)
		return sm_error_set(err, NULL, 0, 0, "validation: chart.metadata.name is required"), -1;
	if (strstr(name, "..") || strchr(name, '/'))
		return sm_error_set(err, NULL, 0, 0, "validation: chart.metadata.name %s is invalid", name), -1;
	if (!*ver)
		return sm_error_set(err, NULL, 0, 0, "validation: chart.metadata.version is required"), -1;
	if (!valid_semver(ver))
		return sm_error_set(err, NULL, 0, 0, "validation: chart.metadata.version \"%s\" is invalid", ver), -1;
	if (*type && strcmp(type, "application") && strcmp(type, "library"))
		return sm_error_set(err, NULL, 0, 0, "validation: chart.metadata.type must be application or library"), -1;
	return 0;
}

static int has_prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct chart_file *)a)->name, ((const struct chart_file *)b)->name);
}

static struct chart *load_archive(const char *data, size_t len, struct sm_error *err);

struct chart *chart_load_files(struct chart_file *files, size_t n, struct sm_error *err)
{
	struct chart *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	struct flist tpl = {0}, other = {0};
	/* subcharts: name -> files with the "charts/NAME/" prefix removed */
	char **subnames = NULL;
	struct flist *subfiles = NULL;
	size_t nsub = 0;
	json_t *meta_y = NULL;
	for (size_t i = 0; i < n; i++) {
		struct chart_file *f = &files[i];
		char *copy = xrealloc(NULL, f->len + 1);
		memcpy(copy, f->data, f->len);
		copy[f->len] = 0;
		if (!strcmp(f->name, "Chart.yaml")) {
			struct sm_error ye = {0};
			json_t *docs = yv_load(copy, f->len, "Chart.yaml", 1, NULL, &ye);
			free(copy);
			if (!docs) {
				chart_yaml_error(err, "cannot load Chart.yaml", &ye);
				goto fail;
			}
			json_t *d = json_array_get(docs, 0);
			meta_y = json_is_object(d) ? json_incref(d) : json_object();
			json_decref(docs);
		} else if (!strcmp(f->name, "values.yaml")) {
			struct sm_error ye = {0};
			json_t *docs = yv_load(copy, f->len, "values.yaml", 1, NULL, &ye);
			free(copy);
			if (!docs) {
				chart_yaml_error(err, "cannot load values.yaml", &ye);
				goto fail;
			}
			json_t *d = json_array_get(docs, 0);
			if (d && !json_is_object(d) && !json_is_null(d)) {
				sm_error_set(err, NULL, 0, 0, "cannot load values.yaml: error unmarshaling JSON: while decoding JSON: "
						      "json: cannot unmarshal %s into Go value of type map[string]interface {}",
					 json_is_array(d) ? "array" : json_is_string(d) ? "string" : json_is_boolean(d) ? "bool" : "number");
				json_decref(docs);
				goto fail;
			}
			json_decref(c->values);
			c->values = json_is_object(d) ? json_incref(d) : json_object();
			json_decref(docs);
			chart_floatify(c->values);
		} else if (!strcmp(f->name, "values.schema.json")) {
			free(c->schema);
			c->schema = copy;
			c->schemalen = f->len;
		} else if (!strcmp(f->name, "Chart.lock") || !strcmp(f->name, "requirements.yaml") ||
			   !strcmp(f->name, "requirements.lock")) {
			free(copy);
		} else if (has_prefix(f->name, "templates/")) {
			fl_add(&tpl, f->name, copy, f->len);
		} else if (has_prefix(f->name, "charts/") && !strstr(f->name, ".prov")) {
			const char *rest = f->name + 7;
			const char *slash = strchr(rest, '/');
			size_t cl = slash ? (size_t)(slash - rest) : strlen(rest);
			size_t k;
			for (k = 0; k < nsub; k++)
				if (strlen(subnames[k]) == cl && !strncmp(subnames[k], rest, cl))
					break;
			if (k == nsub) {
				subnames = xrealloc(subnames, (nsub + 1) * sizeof *subnames);
				subfiles = xrealloc(subfiles, (nsub + 1) * sizeof *subfiles);
				subnames[nsub] = xstrndup(rest, cl);
				memset(&subfiles[nsub], 0, sizeof subfiles[nsub]);
				nsub++;
			}
			fl_add(&subfiles[k], slash ? slash + 1 : "", copy, f->len);
		} else {
			fl_add(&other, f->name, copy, f->len);
		}
	}
	if (!meta_y) {
		sm_error_set(err, NULL, 0, 0, "Chart.yaml file is missing");
		goto fail;
	}
	c->meta = go_metadata(meta_y);
	json_decref(meta_y);
	meta_y = NULL;
	c->name = xstrndup(mstr(c->meta, "Name"), strlen(mstr(c->meta, "Name")));
	if (!c->values)
		c->values = json_object();
	if (validate(c, err))
		goto fail;
	c->templates = tpl.f;
	c->ntemplates = tpl.n;
	tpl = (struct flist){0};
	c->files = other.f;
	c->nfiles = other.n;
	other = (struct flist){0};
	if (c->ntemplates)
		qsort(c->templates, c->ntemplates, sizeof *c->templates, cmp_file);
	for (size_t k = 0; k < nsub; k++) {
		const char *sn = subnames[k];
		if (sn[0] == '_' || sn[0] == '.')
			continue;
		struct chart *sc = NULL;
		struct sm_error serr;
		size_t sl = strlen(sn);
		if (sl > 4 && !strcmp(sn + sl - 4, ".tgz")) {
			struct chart_file *f = &subfiles[k].f[0];
			sc = load_archive(f->data, f->len, &serr);
		} else {
			/* files straight in charts/ (not in a subfolder) are not charts */
			struct flist real = {0};
			for (size_t i = 0; i < subfiles[k].n; i++)
				if (subfiles[k].f[i].name[0]) {
					real.f = xrealloc(real.f, (real.n + 1) * sizeof *real.f);
					real.f[real.n++] = subfiles[k].f[i];
				}
			if (real.n < subfiles[k].n && !real.n) {
				free(real.f);
				continue;
			}
			sc = chart_load_files(real.f, real.n, &serr);
			free(real.f);
		}
		if (!sc) {
			sm_error_set(err, NULL, 0, 0, "error unpacking subchart %s in %s: %.1023s", sn, c->name, serr.msg);
			goto fail;
		}
		sc->parent = c;
		c->deps = xrealloc(c->deps, (c->ndeps + 1) * sizeof *c->deps);
		c->deps[c->ndeps++] = sc;
	}
	for (size_t k = 0; k < nsub; k++) {
		free(subnames[k]);
		fl_free(&subfiles[k]);
	}
	free(subnames);
	free(subfiles);
	return c;
fail:
	json_decref(meta_y);
	fl_free(&tpl);
	fl_free(&other);
	for (size_t k = 0; k < nsub; k++) {
		free(subnames[k]);
		fl_free(&subfiles[k]);
	}
	free(subnames);
	free(subfiles);
	chart_free(c);
	return NULL;
}

static struct chart *load_archive(const char *data, size_t len, struct sm_error *err)
{
	size_t tlen;
	char *tar = gunzip(data, len, &tlen, err);
	if (!tar)
		return NULL;
	struct flist fl = {0};
	if (untar(tar, tlen, &fl, err)) {
		free(tar);
		fl_free(&fl);
		return NULL;
	}
	free(tar);
	/* the archive's .helmignore applies, as Helm's LoadArchive does not (it was applied when packaging) */
	struct chart *c = chart_load_files(fl.f, fl.n, err);
	fl_free(&fl);
	return c;
}

struct chart *chart_load(const char *path, struct sm_error *err)
{
	struct stat st;
	if (stat(path, &st)) {
		sm_error_set(err, NULL, 0, 0, "path \"%s\" not found", path);
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		size_t len;
		char *data = slurp(path, 0, &len);
		if (!data) {
			sm_error_set(err, NULL, 0, 0, "open %s: %s", path, strerror(errno));
			return NULL;
		}
		struct chart *c = load_archive(data, len, err);
		free(data);
		return c;
	}
	struct ignore ig = {0};
	/* Helm's defaults: dotfiles in templates/ are never templates */
	if (ignore_parse(&ig, "templates/.?*\n", 14, err))
		return NULL;
	char ipath[4096];
	snprintf(ipath, sizeof ipath, "%s/.helmignore", path);
	size_t ilen;
	char *itext = slurp(ipath, 0, &ilen);
	if (itext) {
		int rc = ignore_parse(&ig, itext, ilen, err);
		free(itext);
		if (rc) {
			ignore_free(&ig);
			return NULL;
		}
	}
	struct flist fl = {0};
	int rc = walk_dir(path, "", &ig, &fl, err, 0);
	ignore_free(&ig);
	if (rc) {
		fl_free(&fl);
		return NULL;
	}
	struct chart *c = chart_load_files(fl.f, fl.n, err);
	fl_free(&fl);
	return c;
}

void chart_free(struct chart *c)
{
	if (!c)
		return;
	free(c->name);
	json_decref(c->meta);
	json_decref(c->values);
	free(c->schema);
	for (size_t i = 0; i < c->ntemplates; i++) {
		free(c->templates[i].name);
		free(c->templates[i].data);
	}
	free(c->templates);
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].name);
		free(c->files[i].data);
	}
	free(c->files);
	for (size_t i = 0; i < c->ndeps; i++)
		chart_free(c->deps[i]);
	free(c->deps);
	free(c);
}

void chart_full_path(const struct chart *c, char *buf, size_t n)
{
	if (!c->parent) {
		snprintf(buf, n, "%s", c->name);
		return;
	}
	char p[2048];
	chart_full_path(c->parent, p, sizeof p);
	snprintf(buf, n, "%s/charts/%s", p, c->name);
}

int chart_is_library(const struct chart *c) { return !strcmp(mstr(c->meta, "Type"), "library"); }
