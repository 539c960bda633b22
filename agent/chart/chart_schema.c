/* chart_schema.c — values.schema.json validation of a chart's values (the JSON Schema keywords charts use), worded as Helm's gojsonschema. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "sprig.h"
#include "tmpl_node.h"

struct vstate {
	struct sbuf out; /* "- field: description\n" lines */
	json_t *root;    /* the schema document, for "#/..." references */
	int depth;
	int score; /* checks passed: picks the "best" failing branch of anyOf/oneOf, as gojsonschema does */
};

static void errf(struct vstate *v, const char *path, const char *fmt, const char *arg)
{
	sb_printf(&v->out, "- %s: ", *path ? path : "(root)");
	sb_printf(&v->out, fmt, arg);
	sb_putc(&v->out, '\n');
}

static void numstr(char *buf, size_t n, json_t *j)
{
	struct sbuf b = {0};
	if (json_is_real(j) && json_real_value(j) == floor(json_real_value(j)) && fabs(json_real_value(j)) < 1e15)
		sb_printf(&b, "%lld", (long long)json_real_value(j));
	else
		go_print_value(&b, j);
	char *s = sb_take(&b);
	snprintf(buf, n, "%s", s ? s : "");
	free(s);
}

/* gojsonschema's type names of a value (a whole number is an integer). */
static const char *type_of(json_t *j)
{
	if (!j || json_is_null(j))
		return "null";
	if (json_is_string(j))
		return "string";
	if (json_is_boolean(j))
		return "boolean";
	if (json_is_array(j))
		return "array";
	if (json_is_object(j))
		return "object";
	if (json_is_integer(j))
		return "integer";
	double d = json_real_value(j);
	return d == floor(d) && isfinite(d) ? "integer" : "number";
}

static int type_matches(const char *want, json_t *j)
{
	const char *t = type_of(j);
	return !strcmp(want, t) || (!strcmp(want, "number") && !strcmp(t, "integer"));
}

static double num(json_t *j) { return json_is_integer(j) ? (double)json_integer_value(j) : json_real_value(j); }

static void join_path(char *buf, size_t n, const char *base, const char *key)
{
	snprintf(buf, n, "%s%s%s", base, *base ? "." : "", key);
}

static void validate(struct vstate *v, json_t *schema, json_t *val, const char *path);

/* A subschema's own result: its errors (at path) and score. */
static struct vstate sub_validate(struct vstate *v, json_t *s, json_t *val, const char *path)
{
	struct vstate sub = {.root = v->root, .depth = v->depth};
	sb_add(&sub.out, "", 0);
	validate(&sub, s, val, path);
	return sub;
}

static json_t *resolve_ref(struct vstate *v, json_t *schema)
{
	const char *ref = json_string_value(json_object_get(schema, "$ref"));
	if (!ref || strncmp(ref, "#/", 2))
		return schema;
	json_t *cur = v->root;
	char *p = strdup(ref + 2), *save, *tok;
	if (!p)
		abort();
	for (tok = strtok_r(p, "/", &save); tok && cur; tok = strtok_r(NULL, "/", &save))
		cur = json_object_get(cur, tok);
	free(p);
	return cur ? cur : schema;
}

static void validate(struct vstate *v, json_t *schema, json_t *val, const char *path)
{
	if (!json_is_object(schema) || v->depth > 64)
		return;
	v->depth++;
	size_t errs0 = v->out.len;
	v->score += (int)json_object_size(schema); /* keywords seen; each error takes one back */
	schema = resolve_ref(v, schema);
	char buf[1024], pb[2048];
	json_t *t = json_object_get(schema, "type");
	if (t) {
		int ok = 0;
		struct sbuf want = {0};
		sb_add(&want, "", 0);
		if (json_is_string(t)) {
			ok = type_matches(json_string_value(t), val);
			sb_puts(&want, json_string_value(t));
		} else {
			size_t i;
			json_t *x;
			json_array_foreach(t, i, x)
			{
				ok |= type_matches(json_string_value(x), val);
				sb_printf(&want, "%s%s", i ? ", " : "", json_string_value(x));
			}
		}
		if (!ok) {
			snprintf(buf, sizeof buf, "Invalid type. Expected: %s, given: %s", want.s, type_of(val));
			errf(v, path, "%s", buf);
			free(want.s);
			v->score -= (int)json_object_size(schema); /* a wrong type passes nothing */
			v->depth--;
			return;
		}
		free(want.s);
	}
	json_t *e;
	if ((e = json_object_get(schema, "enum")) && json_is_array(e)) {
		int found = 0;
		size_t i;
		json_t *x;
		struct sbuf allowed = {0};
		sb_add(&allowed, "", 0);
		json_array_foreach(e, i, x)
		{
			found |= json_equal(x, val) || (json_is_number(x) && json_is_number(val) && num(x) == num(val));
			char *js = json_dumps(x, JSON_ENCODE_ANY | JSON_COMPACT);
			sb_printf(&allowed, "%s%s", i ? ", " : "", js ? js : "");
			free(js);
		}
		if (!found) {
			snprintf(buf, sizeof buf, "%s must be one of the following: %s", *path ? path : "(root)", allowed.s);
			errf(v, path, "%s", buf);
		}
		free(allowed.s);
	}
	if ((e = json_object_get(schema, "const")) && !json_equal(e, val)) {
		char *js = json_dumps(e, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(buf, sizeof buf, "%s does not match: %s", *path ? path : "(root)", js ? js : "");
		free(js);
		errf(v, path, "%s", buf);
	}
	if (json_is_number(val)) {
		double d = num(val);
		char ns[64];
		if ((e = json_object_get(schema, "multipleOf")) && json_is_number(e) && num(e) != 0 &&
		    fmod(d, num(e)) != 0) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "Must be a multiple of %s", ns);
		}
		if ((e = json_object_get(schema, "maximum")) && json_is_number(e) && d > num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "Must be less than or equal to %s", ns);
		}
		if ((e = json_object_get(schema, "exclusiveMaximum")) && json_is_number(e) && d >= num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "Must be less than %s", ns);
		}
		if ((e = json_object_get(schema, "minimum")) && json_is_number(e) && d < num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "Must be greater than or equal to %s", ns);
		}
		if ((e = json_object_get(schema, "exclusiveMinimum")) && json_is_number(e) && d <= num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "Must be greater than %s", ns);
		}
	}
	if (json_is_string(val)) {
		/* lengths count runes */
		size_t runes = 0, len = json_string_length(val);
		for (size_t i = 0; i < len; i += tmpl_rune_width(json_string_value(val) + i, len - i))
			runes++;
		char ns[64];
		if ((e = json_object_get(schema, "minLength")) && json_is_number(e) && (double)runes < num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "String length must be greater than or equal to %s", ns);
		}
		if ((e = json_object_get(schema, "maxLength")) && json_is_number(e) && (double)runes > num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "String length must be less than or equal to %s", ns);
		}
		if ((e = json_object_get(schema, "pattern")) && json_is_string(e)) {
			struct sm_error rerr;
			struct tre *re = tre_compile(json_string_value(e), json_string_length(e), &rerr);
			long m[2 * 64];
			if (re && tre_ngroups(re) < 63 && !tre_exec(re, json_string_value(val), len, 0, m))
				errf(v, path, "Does not match pattern '%s'", json_string_value(e));
			tre_free(re);
		}
	}
	if (json_is_array(val)) {
		char ns[64];
		size_t n = json_array_size(val);
		if ((e = json_object_get(schema, "minItems")) && json_is_number(e) && (double)n < num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "Array must have at least %s items", ns);
		}
		if ((e = json_object_get(schema, "maxItems")) && json_is_number(e) && (double)n > num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "Array must have at most %s items", ns);
		}
		if (json_is_true(json_object_get(schema, "uniqueItems")))
			for (size_t i = 0; i < n; i++)
				for (size_t j = i + 1; j < n; j++)
					if (json_equal(json_array_get(val, i), json_array_get(val, j))) {
						snprintf(buf, sizeof buf, "array items[%zu,%zu] must be unique", i, j);
						errf(v, path, "%s", buf);
						i = j = n;
					}
		json_t *items = json_object_get(schema, "items");
		if (json_is_object(items))
			for (size_t i = 0; i < n; i++) {
				char idx[32];
				snprintf(idx, sizeof idx, "%zu", i);
				join_path(pb, sizeof pb, path, idx);
				validate(v, items, json_array_get(val, i), pb);
			}
	}
	if (json_is_object(val)) {
		char ns[64];
		json_t *req = json_object_get(schema, "required");
		size_t i;
		json_t *x;
		json_array_foreach(req, i, x) if (json_is_string(x) && !json_object_get(val, json_string_value(x)))
			errf(v, path, "%s is required", json_string_value(x));
		if ((e = json_object_get(schema, "minProperties")) && json_is_number(e) && (double)json_object_size(val) < num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "Must have at least %s properties", ns);
		}
		if ((e = json_object_get(schema, "maxProperties")) && json_is_number(e) && (double)json_object_size(val) > num(e)) {
			numstr(ns, sizeof ns, e);
			errf(v, path, "Must have at most %s properties", ns);
		}
		json_t *props = json_object_get(schema, "properties");
		json_t *addl = json_object_get(schema, "additionalProperties");
		/* in key order (gojsonschema's order is Go's map order: random) */
		const char **keys = malloc((json_object_size(props) + json_object_size(val) + 1) * sizeof *keys);
		size_t nk = 0;
		const char *k;
		json_t *ps;
		if (!keys)
			abort();
		json_object_foreach(props, k, ps) keys[nk++] = k;
		for (size_t a = 1; a < nk; a++)
			for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
				const char *tmp = keys[b];
				keys[b] = keys[b - 1];
				keys[b - 1] = tmp;
			}
		for (size_t a = 0; a < nk; a++) {
			json_t *pv = json_object_get(val, keys[a]);
			if (!pv)
				continue;
			join_path(pb, sizeof pb, path, keys[a]);
			validate(v, json_object_get(props, keys[a]), pv, pb);
		}
		free(keys);
		json_t *pv;
		json_object_foreach(val, k, pv)
		{
			if (json_object_get(props, k))
				continue;
			if (json_is_false(addl)) {
				errf(v, path, "Additional property %s is not allowed", k);
			} else if (json_is_object(addl)) {
				join_path(pb, sizeof pb, path, k);
				validate(v, addl, pv, pb);
			}
		}
	}
	json_t *sub;
	if ((sub = json_object_get(schema, "anyOf")) && json_is_array(sub)) {
		size_t i;
		json_t *x;
		int ok = 0;
		struct vstate best = {0};
		int have = 0;
		json_array_foreach(sub, i, x)
		{
			if (ok)
				break;
			struct vstate r = sub_validate(v, x, val, path);
			ok = r.out.len == 0;
			if (!ok && (!have || r.score > best.score)) {
				free(best.out.s);
				best = r;
				have = 1;
			} else {
				free(r.out.s);
			}
		}
		if (!ok) {
			errf(v, path, "%s", "Must validate at least one schema (anyOf)");
			if (have)
				sb_add(&v->out, best.out.s, best.out.len);
		}
		free(best.out.s);
	}
	if ((sub = json_object_get(schema, "oneOf")) && json_is_array(sub)) {
		size_t i, cnt = 0;
		json_t *x;
		struct vstate best = {0};
		int have = 0;
		json_array_foreach(sub, i, x)
		{
			struct vstate r = sub_validate(v, x, val, path);
			if (!r.out.len) {
				cnt++;
				free(r.out.s);
			} else if (!cnt && (!have || r.score > best.score)) {
				free(best.out.s);
				best = r;
				have = 1;
			} else {
				free(r.out.s);
			}
		}
		if (cnt != 1) {
			errf(v, path, "%s", "Must validate one and only one schema (oneOf)");
			if (!cnt && have)
				sb_add(&v->out, best.out.s, best.out.len);
		}
		free(best.out.s);
	}
	if ((sub = json_object_get(schema, "allOf")) && json_is_array(sub)) {
		size_t i, okn = 0;
		json_t *x;
		json_array_foreach(sub, i, x)
		{
			struct vstate r = sub_validate(v, x, val, path);
			okn += r.out.len == 0;
			sb_add(&v->out, r.out.s, r.out.len);
			free(r.out.s);
		}
		if (okn != json_array_size(sub))
			errf(v, path, "%s", "Must validate all the schemas (allOf)");
	}
	if ((sub = json_object_get(schema, "not")) && json_is_object(sub)) {
		struct vstate r = sub_validate(v, sub, val, path);
		if (!r.out.len)
			errf(v, path, "%s", "Must not validate the schema (not)");
		free(r.out.s);
	}
	for (size_t i = errs0; i < v->out.len; i++)
		v->score -= v->out.s[i] == '\n';
	v->depth--;
}

/* Helm's ValidateAgainstSchema: this chart, then each subchart with its part of the values. */
static int validate_tree(struct chart *c, json_t *vals, struct sbuf *out, struct sm_error *err)
{
	if (c->schema) {
		json_error_t je;
		json_t *schema = json_loadb(c->schema, c->schemalen, 0, &je);
		if (!schema) {
			sm_error_set(err, NULL, 0, 0, "%s", je.text);
			return -1;
		}
		struct vstate v = {.root = schema};
		json_t *doc = vals ? vals : json_object();
		validate(&v, schema, doc, "");
		if (!vals)
			json_decref(doc);
		if (v.out.len) {
			sb_printf(out, "%s:\n", c->name);
			sb_add(out, v.out.s, v.out.len);
		}
		free(v.out.s);
		json_decref(schema);
	}
	for (size_t i = 0; i < c->ndeps; i++)
		if (validate_tree(c->deps[i], json_object_get(vals, c->deps[i]->name), out, err))
			return -1;
	return 0;
}

int chart_validate_schema(struct chart *c, json_t *vals, struct sm_error *err)
{
	struct sbuf out = {0};
	if (validate_tree(c, vals, &out, err)) {
		free(out.s);
		return -1;
	}
	if (!out.len)
		return 0;
	sb_add(&out, "", 0);
	sm_error_set(err, NULL, 0, 0, "values don't meet the specifications of the schema(s) in the following chart(s):\n%s",
		 out.s);
	free(out.s);
	return -1;
}
