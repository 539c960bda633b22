/* dict.c — sprig's dict.go: dict, get, set, unset, hasKey, keys, values, pick, omit, merge, mergeOverwrite, dig. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "sprig.h"
#include "tmpl_node.h"

int tfx_dict(struct tmpl_call *c, json_t **a, size_t n)
{
	json_t *d = json_object();
	for (size_t i = 0; i < n; i += 2) {
		struct sbuf k = {0};
		sb_add(&k, "", 0);
		sprig_strval(&k, a[i]);
		json_object_setn_nocheck(d, k.s, k.len, i + 1 < n ? a[i + 1] : json_string_nocheck(""));
		if (i + 1 >= n) {
			/* json_object_setn took a new reference to the "" string above; drop ours */
			json_decref(json_object_getn(d, k.s, k.len));
		}
		free(k.s);
	}
	return tf_ret(c, d);
}

static int need_map(struct tmpl_call *c, json_t *m)
{
	if (!m || json_is_null(m))
		return tf_fail(c, "assignment to entry in nil map");
	return 0;
}

int tfx_get(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *v = a[0] && json_is_object(a[0]) ? json_object_getn(a[0], S(a[1]), SL(a[1])) : NULL;
	return tf_ret(c, v ? json_incref(v) : json_string_nocheck(""));
}

int tfx_set(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (need_map(c, a[0]))
		return -1;
	json_object_setn_nocheck(a[0], S(a[1]), SL(a[1]), a[2] ? a[2] : json_null());
	return tf_ret(c, json_incref(a[0]));
}

int tfx_unset(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (a[0] && json_is_object(a[0]))
		json_object_deln(a[0], S(a[1]), SL(a[1]));
	return tf_ret(c, json_incref(a[0]));
}

int tfx_has_key(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, a[0] && json_is_object(a[0]) && json_object_getn(a[0], S(a[1]), SL(a[1])));
}

int tfx_keys(struct tmpl_call *c, json_t **a, size_t n)
{
	/* Go's map order is random; sorted keys are one of its possible outcomes */
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!a[i] || !json_is_object(a[i]))
			continue;
		const char *k;
		json_t *v;
		json_object_foreach(a[i], k, v) json_array_append_new(out, json_string_nocheck(k));
	}
	size_t m = json_array_size(out);
	for (size_t i = 1; i < m; i++)
		for (size_t j = i; j > 0 && strcmp(S(json_array_get(out, j - 1)), S(json_array_get(out, j))) > 0; j--) {
			json_t *x = json_incref(json_array_get(out, j));
			json_array_set(out, j, json_array_get(out, j - 1));
			json_array_set_new(out, j - 1, x);
		}
	return tf_ret(c, out);
}

int tfx_values(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *out = json_array();
	if (a[0] && json_is_object(a[0])) {
		size_t m = json_object_size(a[0]), i = 0;
		const char **keys = malloc((m ? m : 1) * sizeof *keys);
		if (!keys)
			abort();
		const char *k;
		json_t *v;
		json_object_foreach(a[0], k, v) keys[i++] = k;
		qsort(keys, m, sizeof *keys, sprig_cmp_keys);
		for (i = 0; i < m; i++)
			json_array_append(out, json_object_get(a[0], keys[i]));
		free(keys);
	}
	return tf_ret(c, out);
}

/* mergo 0.3's map merge as sprig calls it: merge (overwrite 0) fills keys that dst lacks or holds empty;
 * mergeOverwrite (1) replaces with every non-nil src value, empty ones included, and copies nils. In both,
 * maps merge deeply and a non-empty dst value is kept when src brings a map. */
static void merge_into(json_t *dst, json_t *src, int overwrite, int depth)
{
	const char *k;
	json_t *sv;
	json_object_foreach(src, k, sv)
	{
		json_t *dv = json_object_get(dst, k);
		if (json_is_null(sv)) {
			if (overwrite)
				json_object_set(dst, k, sv);
			continue;
		}
		if (json_is_object(sv)) {
			if (dv && json_is_object(dv) && depth < 100)
				merge_into(dv, sv, overwrite, depth + 1);
			if (dv && !sprig_is_empty(dv))
				continue;
		}
		if (overwrite || !dv || sprig_is_empty(dv))
			json_object_set(dst, k, sv);
	}
}

int tfx_merge(struct tmpl_call *c, json_t **a, size_t n)
{
	if (need_map(c, a[0]))
		return -1;
	for (size_t i = 1; i < n; i++)
		if (a[i] && json_is_object(a[i]) && a[i] != a[0])
			merge_into(a[0], a[i], 0, 0);
	return tf_ret(c, json_incref(a[0]));
}

/* The panic of a failed x.(map[string]interface{}) assertion. */
static int not_a_map(struct tmpl_call *c, json_t *j)
{
	struct tval v = {j, 0};
	return tf_fail(c, "interface conversion: interface {} is %s, not map[string]interface {}",
		       j && !json_is_null(j) ? tv_type_name(&v) : "nil");
}

/* sprig's dig: type assertions panic on non-string keys and non-map steps; text/template reports the panic. */
int tfx_dig(struct tmpl_call *c, json_t **a, size_t n)
{
	if (n < 3)
		return tf_fail(c, "dig needs at least three arguments");
	json_t *cur = a[n - 1];
	if (!cur || !json_is_object(cur))
		return not_a_map(c, cur);
	for (size_t i = 0; i + 2 < n; i++)
		if (!a[i] || !json_is_string(a[i])) {
			struct tval v = {a[i], 0};
			return tf_fail(c, "interface conversion: interface {} is %s, not string",
				       a[i] && !json_is_null(a[i]) ? tv_type_name(&v) : "nil");
		}
	for (size_t i = 0; i + 2 < n; i++) {
		json_t *next = json_object_getn(cur, S(a[i]), SL(a[i]));
		if (!next)
			return tf_ret(c, json_incref(a[n - 2]));
		if (i + 3 < n && !json_is_object(next))
			return not_a_map(c, next);
		cur = next;
	}
	return tf_ret(c, json_incref(cur));
}

static int pick_omit(struct tmpl_call *c, json_t **a, size_t n, int pick)
{
	json_t *out = json_object();
	if (a[0] && json_is_object(a[0])) {
		const char *k;
		json_t *v;
		json_object_foreach(a[0], k, v)
		{
			int listed = 0;
			for (size_t i = 1; i < n && !listed; i++)
				listed = !strcmp(S(a[i]), k);
			if (listed == pick)
				json_object_set(out, k, v);
		}
	}
	return tf_ret(c, out);
}

int tfx_pick(struct tmpl_call *c, json_t **a, size_t n) { return pick_omit(c, a, n, 1); }

int tfx_omit(struct tmpl_call *c, json_t **a, size_t n) { return pick_omit(c, a, n, 0); }

int tfx_merge_overwrite(struct tmpl_call *c, json_t **a, size_t n)
{
	if (need_map(c, a[0]))
		return -1;
	for (size_t i = 1; i < n; i++)
		if (a[i] && json_is_object(a[i]) && a[i] != a[0])
			merge_into(a[0], a[i], 1, 0);
	return tf_ret(c, json_incref(a[0]));
}
