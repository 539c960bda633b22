/* chart_values.c — Helm's values: -f merging, --set (strvals), coalescing with charts and subcharts, globals, conditions/tags, import-values. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chart.h"
#include "tmpl_node.h"

static int is_table(json_t *v) { return json_is_object(v); }

void chart_floatify(json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	void *tmp;
	if (json_is_object(v)) {
		json_object_foreach_safe(v, tmp, k, x)
		{
			if (json_is_integer(x))
				json_object_set_new(v, k, json_real((double)json_integer_value(x)));
			else
				chart_floatify(x);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			if (json_is_integer(x))
				json_array_set_new(v, i, json_real((double)json_integer_value(x)));
			else
				chart_floatify(x);
		}
	}
}

json_t *chart_merge_maps(json_t *a, json_t *b)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(a, k, v) json_object_set(out, k, v);
	json_object_foreach(b, k, v)
	{
		json_t *bv = json_object_get(out, k);
		if (is_table(v) && is_table(bv)) {
			json_object_set_new(out, k, chart_merge_maps(bv, v));
			continue;
		}
		json_object_set(out, k, v);
	}
	return out;
}

/* ---- --set (Helm's pkg/strvals) ---- */

static json_t *typed_val(const char *s, size_t n, int as_string)
{
	if (as_string)
		return json_stringn_nocheck(s, n);
	if (n == 4 && !strncasecmp(s, "true", 4))
		return json_true();
	if (n == 5 && !strncasecmp(s, "false", 5))
		return json_false();
	if (n == 4 && !strncasecmp(s, "null", 4))
		return json_null();
	if (n == 1 && s[0] == '0')
		return json_integer(0);
	if (n && s[0] != '0') {
		char buf[32];
		if (n < sizeof buf) {
			memcpy(buf, s, n);
			buf[n] = 0;
			char *end;
			errno = 0;
			long long v = strtoll(buf, &end, 10);
			/* Go's ParseInt: optional sign, digits only */
			int ok = !errno && *end == 0 && (isdigit((unsigned char)buf[0]) || ((buf[0] == '-' || buf[0] == '+') && n > 1));
			for (size_t i = (buf[0] == '-' || buf[0] == '+'); ok && i < n; i++)
				ok = isdigit((unsigned char)buf[i]) != 0;
			if (ok)
				return json_integer(v);
		}
	}
	return json_stringn_nocheck(s, n);
}

struct sv_parser {
	const char *p, *end;
	int as_string;
	int depth; /* nested names so far (Helm allows 30) */
	struct sm_error *err;
};

/* Reads up to one of stops (not escaped); unescapes backslashes. Returns the stop char or 0 at end. */
static int sv_read(struct sv_parser *x, const char *stops, struct sbuf *b)
{
	while (x->p < x->end) {
		char c = *x->p;
		if (c == '\\' && x->p + 1 < x->end) {
			sb_putc(b, x->p[1]);
			x->p += 2;
			continue;
		}
		if (strchr(stops, c)) {
			x->p++;
			return c;
		}
		sb_putc(b, c);
		x->p++;
	}
	return 0;
}

static int sv_value_into(struct sv_parser *x, json_t **slot);

/* A list value {a,b,c}. */
static json_t *sv_list(struct sv_parser *x)
{
	json_t *l = json_array();
	for (;;) {
		struct sbuf b = {0};
		sb_add(&b, "", 0);
		int c = sv_read(x, ",}", &b);
		json_array_append_new(l, typed_val(b.s, b.len, x->as_string));
		free(b.s);
		if (c != ',')
			break;
	}
	if (x->p < x->end && *x->p == ',')
		x->p++;
	return l;
}

static int sv_value_into(struct sv_parser *x, json_t **slot)
{
	if (x->p < x->end && *x->p == '{') {
		x->p++;
		json_decref(*slot);
		*slot = sv_list(x);
		return 0;
	}
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	sv_read(x, ",", &b);
	json_decref(*slot);
	*slot = typed_val(b.s, b.len, x->as_string);
	free(b.s);
	return 0;
}

/* key[.key|[n]]...=value at x->p into obj. */
static int sv_assign(struct sv_parser *x, json_t *obj)
{
	struct sbuf key = {0};
	sb_add(&key, "", 0);
	int c = sv_read(x, ".=[,", &key);
	int rc = 0;
	if (c == 0 || c == ',') { /* "a" or "a,": a key without a value; an empty item is skipped */
		if (key.len)
			sm_error_set(x->err, NULL, 0, 0, "key \"%s\" has no value", key.s);
		rc = key.len ? -1 : 0;
		free(key.s);
		return rc;
	}
	if (c == '=') {
		json_t *v = NULL;
		sv_value_into(x, &v);
		json_object_set_new_nocheck(obj, key.s, v);
	} else if (c == '.') {
		if (++x->depth > 30) {
			sm_error_set(x->err, NULL, 0, 0, "value name nested level is greater than maximum supported nested level of 30");
			free(key.s);
			return -1;
		}
		json_t *sub = json_object_get(obj, key.s);
		if (!is_table(sub)) {
			sub = json_object();
			json_object_set_new_nocheck(obj, key.s, sub);
		}
		rc = sv_assign(x, sub);
	} else { /* [n] */
		struct sbuf idx = {0};
		sb_add(&idx, "", 0);
		sv_read(x, "]", &idx);
		char *end;
		long n = strtol(idx.s, &end, 10);
		if (*end || !idx.len || n < 0) {
			sm_error_set(x->err, NULL, 0, 0, "negative %ld index not allowed", n);
			free(idx.s);
			free(key.s);
			return -1;
		}
		free(idx.s);
		if (n > 65536) { /* Helm's strvals.MaxIndex */
			sm_error_set(x->err, NULL, 0, 0, "index of %ld is greater than maximum supported index 65536", n);
			free(key.s);
			return -1;
		}
		json_t *list = json_object_get(obj, key.s);
		if (!json_is_array(list)) {
			list = json_array();
			json_object_set_new_nocheck(obj, key.s, list);
		}
		while (json_array_size(list) <= (size_t)n)
			json_array_append_new(list, json_null());
		if (x->p < x->end && *x->p == '=') {
			x->p++;
			json_t *v = NULL;
			sv_value_into(x, &v);
			json_array_set_new(list, (size_t)n, v);
		} else if (x->p < x->end && *x->p == '.') {
			x->p++;
			json_t *sub = json_array_get(list, (size_t)n);
			if (!is_table(sub)) {
				sub = json_object();
				json_array_set_new(list, (size_t)n, sub);
			}
			rc = sv_assign(x, sub);
		} else {
			sm_error_set(x->err, NULL, 0, 0, "key \"%s[%ld]\" has no value", key.s, n);
			rc = -1;
		}
	}
	free(key.s);
	return rc;
}

int chart_strvals(json_t *vals, const char *assignment, int as_string, struct sm_error *err)
{
	struct sv_parser x = {assignment, assignment + strlen(assignment), as_string, 0, err};
	while (x.p < x.end) {
		x.depth = 0;
		if (sv_assign(&x, vals))
			return -1;
	}
	return 0;
}

/* ---- coalescing (Helm's pkg/chartutil/coalesce.go) ---- */

static void coalesce_tables(json_t *dst, json_t *src, int merge)
{
	if (!src || !dst)
		return;
	const char *k;
	json_t *v;
	json_object_foreach(dst, k, v) if (json_is_null(v)) json_object_set_new(src, k, json_null());
	void *tmp;
	json_object_foreach_safe(src, tmp, k, v)
	{
		json_t *dv = json_object_get(dst, k);
		if (dv && !merge && json_is_null(dv))
			json_object_del(dst, k);
		else if (!dv)
			json_object_set(dst, k, v);
		else if (is_table(v) && is_table(dv))
			coalesce_tables(dv, v, merge);
	}
}

static int is_dep_name(struct chart *c, const char *key)
{
	for (size_t i = 0; i < c->ndeps; i++)
		if (!strcmp(c->deps[i]->name, key))
			return 1;
	return 0;
}

static void coalesce_values(struct chart *c, json_t *v, int merge)
{
	json_t *vc = json_deep_copy(c->values);
	const char *k;
	json_t *val;
	json_object_foreach(vc, k, val)
	{
		json_t *value = json_object_get(v, k);
		if (value) {
			if (json_is_null(value) && !merge)
				json_object_del(v, k);
			else if (is_table(value) && is_table(val))
				coalesce_tables(value, val, is_dep_name(c, k) ? 1 : merge);
		} else {
			json_object_set(v, k, val);
		}
	}
	json_decref(vc);
}

static void coalesce_globals(json_t *dest, json_t *src)
{
	json_t *dg = json_object_get(dest, "global"), *sg = json_object_get(src, "global");
	if (dg && !is_table(dg))
		return;
	if (sg && !is_table(sg))
		return;
	dg = dg ? json_incref(dg) : json_object();
	const char *k;
	json_t *val;
	json_object_foreach(sg, k, val)
	{
		json_t *dv = json_object_get(dg, k);
		if (is_table(val)) {
			json_t *vv = json_deep_copy(val);
			if (!dv) {
				json_object_set_new(dg, k, vv);
			} else if (!is_table(dv)) {
				json_decref(vv);
			} else {
				coalesce_tables(vv, dv, 1);
				json_object_set_new(dg, k, vv);
			}
		} else if (dv && is_table(dv)) {
			/* a table is kept */
		} else {
			json_object_set(dg, k, val);
		}
	}
	json_object_set_new(dest, "global", dg);
}

static int coalesce(struct chart *c, json_t *dest, int merge, struct sm_error *err);

static int coalesce_deps(struct chart *c, json_t *dest, int merge, struct sm_error *err)
{
	for (size_t i = 0; i < c->ndeps; i++) {
		struct chart *sc = c->deps[i];
		json_t *cur = json_object_get(dest, sc->name);
		if (!cur) {
			json_object_set_new(dest, sc->name, json_object());
		} else if (!is_table(cur)) {
			/* Go's %t of a non-bool value: %!t(TYPE=VALUE) */
			struct sbuf b = {0};
			sb_add(&b, "", 0);
			if (!json_is_null(cur))
				go_print_value(&b, cur);
			if (json_is_boolean(cur))
				sm_error_set(err, NULL, 0, 0, "type mismatch on %s: %s", sc->name, b.s);
			else
				sm_error_set(err, NULL, 0, 0, "type mismatch on %s: %%!t(%s=%s)", sc->name,
					 json_is_string(cur) ? "string" : json_is_real(cur) ? "float64" : json_is_integer(cur) ? "int64" : "[]interface {}",
					 b.s);
			free(b.s);
			return -1;
		}
		json_t *dv = json_object_get(dest, sc->name);
		coalesce_globals(dv, dest);
		if (coalesce(sc, dv, merge, err))
			return -1;
	}
	return 0;
}

static int coalesce(struct chart *c, json_t *dest, int merge, struct sm_error *err)
{
	coalesce_values(c, dest, merge);
	return coalesce_deps(c, dest, merge, err);
}

static json_t *coalesce_top(struct chart *c, json_t *vals, int merge, struct sm_error *err)
{
	json_t *v = vals ? json_deep_copy(vals) : json_object();
	if (coalesce(c, v, merge, err)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

json_t *chart_coalesce(struct chart *c, json_t *vals, struct sm_error *err)
{
	return coalesce_top(c, vals, 0, err);
}

/* ---- dependencies (Helm's pkg/chartutil/dependencies.go) ---- */

/* Values.PathValue: a dotted path to a non-table value. */
static json_t *path_value(json_t *v, const char *path)
{
	char *p = strdup(path);
	if (!p)
		abort();
	json_t *cur = v;
	char *save, *tok = strtok_r(p, ".", &save);
	while (tok && cur) {
		char *next = strtok_r(NULL, ".", &save);
		cur = is_table(cur) ? json_object_get(cur, tok) : NULL;
		tok = next;
	}
	free(p);
	return cur;
}

static const char *dstr(json_t *d, const char *k) { return json_string_value(json_object_get(d, k)); }

static int version_ok(const char *constraint, struct chart *sc)
{
	struct sm_error e;
	const char *v = json_string_value(json_object_get(sc->meta, "Version"));
	return tmpl_semver_compare(constraint, v, strlen(v), &e) == 1;
}

static int process_enabled(struct chart *c, json_t *top, const char *path, struct sm_error *err)
{
	json_t *reqs = json_object_get(c->meta, "Dependencies");
	if (!json_array_size(reqs))
		return 0;
	/* charts in charts/ named in Chart.yaml with a compatible version are taken (under their alias) from there */
	struct chart **keep = calloc(c->ndeps + json_array_size(reqs) + 1, sizeof *keep);
	if (!keep)
		abort();
	size_t nkeep = 0;
	for (size_t i = 0; i < c->ndeps; i++) {
		int listed = 0;
		size_t j;
		json_t *r;
		json_array_foreach(reqs, j, r) if (!strcmp(c->deps[i]->name, dstr(r, "Name")) && version_ok(dstr(r, "Version"), c->deps[i])) listed = 1;
		if (!listed)
			keep[nkeep++] = c->deps[i];
	}
	size_t j;
	json_t *r;
	int *used = calloc(c->ndeps + 1, sizeof *used);
	if (!used)
		abort();
	json_array_foreach(reqs, j, r)
	{
		for (size_t i = 0; i < c->ndeps; i++) {
			struct chart *sc = c->deps[i];
			if (strcmp(sc->name, dstr(r, "Name")) || !version_ok(dstr(r, "Version"), sc))
				continue;
			if (used[i])
				continue; /* one chart folder serves one alias here (Helm copies it for a second one) */
			used[i] = 1;
			if (*dstr(r, "Alias")) {
				free(sc->name);
				sc->name = strdup(dstr(r, "Alias"));
				json_object_set_new(sc->meta, "Name", json_string(sc->name));
			}
			keep[nkeep++] = sc;
			break;
		}
		if (*dstr(r, "Alias"))
			json_object_set_new(r, "Name", json_string(dstr(r, "Alias")));
	}
	free(used);
	/* charts in charts/ matched by nothing and not kept are dropped with the rest */
	for (size_t i = 0; i < c->ndeps; i++) {
		int kept = 0;
		for (size_t k = 0; k < nkeep; k++)
			kept |= keep[k] == c->deps[i];
		if (!kept)
			chart_free(c->deps[i]);
	}
	free(c->deps);
	c->deps = keep;
	c->ndeps = nkeep;
	json_array_foreach(reqs, j, r) json_object_set_new(r, "Enabled", json_true());
	json_t *cvals = coalesce_top(c, top, 0, err);
	if (!cvals)
		return -1;
	/* tags, then conditions (a condition that resolves to a bool wins) */
	json_t *tags = json_object_get(cvals, "tags");
	json_array_foreach(reqs, j, r)
	{
		if (is_table(tags)) {
			int has_true = 0, has_false = 0;
			size_t t;
			json_t *tag;
			json_array_foreach(json_object_get(r, "Tags"), t, tag)
			{
				json_t *b = json_object_get(tags, json_string_value(tag));
				if (json_is_boolean(b))
					json_is_true(b) ? (has_true = 1) : (has_false = 1);
			}
			json_object_set_new(r, "Enabled", json_boolean(!(!has_true && has_false)));
		}
		char *conds = strdup(dstr(r, "Condition"));
		if (!conds)
			abort();
		char *save, *cnd;
		for (cnd = strtok_r(conds, ",", &save); cnd; cnd = strtok_r(NULL, ",", &save)) {
			while (*cnd == ' ')
				cnd++;
			if (!*cnd)
				continue;
			char full[1024];
			snprintf(full, sizeof full, "%s%s", path, cnd);
			json_t *vv = path_value(cvals, full);
			if (json_is_boolean(vv)) {
				json_object_set_new(r, "Enabled", json_boolean(json_is_true(vv)));
				break;
			}
		}
		free(conds);
	}
	/* drop disabled charts and their metadata */
	json_t *meta_keep = json_array();
	size_t nd = 0;
	json_array_foreach(reqs, j, r)
	{
		if (json_is_true(json_object_get(r, "Enabled"))) {
			json_array_append(meta_keep, r);
			continue;
		}
		for (size_t i = 0; i < c->ndeps; i++)
			if (c->deps[i] && !strcmp(c->deps[i]->name, dstr(r, "Name"))) {
				chart_free(c->deps[i]);
				c->deps[i] = NULL;
			}
	}
	for (size_t i = 0; i < c->ndeps; i++)
		if (c->deps[i])
			c->deps[nd++] = c->deps[i];
	c->ndeps = nd;
	int rc = 0;
	for (size_t i = 0; i < c->ndeps && !rc; i++) {
		char sub[1024];
		snprintf(sub, sizeof sub, "%s%s.", path, c->deps[i]->name);
		rc = process_enabled(c->deps[i], cvals, sub, err);
	}
	json_object_set_new(c->meta, "Dependencies", meta_keep);
	json_decref(cvals);
	return rc;
}

/* Values.Table: a dotted path to a table. */
static json_t *table_at(json_t *v, const char *path)
{
	json_t *t = path_value(v, path);
	return is_table(t) ? t : NULL;
}

/* pathToMap: {"a": {"b": data}} for "a.b"; "." or "" is data itself. */
static json_t *path_to_map(const char *path, json_t *data)
{
	if (!*path || !strcmp(path, "."))
		return json_deep_copy(data);
	char *p = strdup(path);
	if (!p)
		abort();
	json_t *top = json_object(), *cur = top;
	char *save, *tok = strtok_r(p, ".", &save);
	while (tok) {
		char *next = strtok_r(NULL, ".", &save);
		json_object_set_new(cur, tok, next ? json_object() : json_deep_copy(data));
		cur = json_object_get(cur, tok);
		tok = next;
	}
	free(p);
	return top;
}

static void merge_tables(json_t *dst, json_t *src) { coalesce_tables(dst, src, 1); }

static int process_import_values(struct chart *c, struct sm_error *err)
{
	json_t *reqs = json_object_get(c->meta, "Dependencies");
	if (!json_array_size(reqs))
		return 0;
	json_t *cvals = coalesce_top(c, NULL, 1, err);
	if (!cvals)
		return -1;
	json_t *b = json_object();
	size_t j;
	json_t *r;
	json_array_foreach(reqs, j, r)
	{
		json_t *outiv = json_array();
		size_t k;
		json_t *iv;
		json_array_foreach(json_object_get(r, "ImportValues"), k, iv)
		{
			char path[1024];
			if (is_table(iv)) {
				const char *child = json_string_value(json_object_get(iv, "child"));
				const char *parent = json_string_value(json_object_get(iv, "parent"));
				if (!child || !parent)
					continue;
				json_array_append_new(outiv, json_pack("{ssss}", "child", child, "parent", parent));
				snprintf(path, sizeof path, "%s.%s", dstr(r, "Name"), child);
				json_t *vv = table_at(cvals, path);
				if (!vv)
					continue;
				json_t *pm = path_to_map(parent, vv);
				merge_tables(b, pm); /* earlier imports win */
				json_decref(pm);
			} else if (json_is_string(iv)) {
				char child[512];
				snprintf(child, sizeof child, "exports.%s", json_string_value(iv));
				json_array_append_new(outiv, json_pack("{ssss}", "child", child, "parent", "."));
				snprintf(path, sizeof path, "%s.%s", dstr(r, "Name"), child);
				json_t *vm = table_at(cvals, path);
				if (!vm)
					continue;
				json_t *pm = json_deep_copy(vm);
				merge_tables(b, pm);
				json_decref(pm);
			}
		}
		json_object_set_new(r, "ImportValues", outiv);
	}
	/* the parent's own values win over what it imports */
	merge_tables(cvals, b);
	json_decref(b);
	json_decref(c->values);
	c->values = cvals;
	return 0;
}

static int process_imports(struct chart *c, struct sm_error *err)
{
	for (size_t i = 0; i < c->ndeps; i++)
		if (process_imports(c->deps[i], err))
			return -1;
	return process_import_values(c, err);
}

int chart_process_dependencies(struct chart *c, json_t *vals, struct sm_error *err)
{
	if (process_enabled(c, vals, "", err))
		return -1;
	return process_imports(c, err);
}
