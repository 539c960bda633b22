/* list.c — sprig's list.go: list, append/prepend, first/rest/last/initial, reverse, uniq, without, has, compact, concat, chunk, and deepCopy, pluck, typeIsLike, seq. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sprig.h"
#include "tmpl_node.h"

int tfx_deep_copy(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (!a[0] || json_is_null(a[0]))
		return tf_ret(c, NULL);
	return tf_ret(c, json_deep_copy(a[0]));
}

int tfx_chunk(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long size = (long long)json_integer_value(a[0]);
	json_t *l = a[1];
	if (!json_is_array(l))
		return tf_fail(c, "Cannot chunk type %s", sprig_kind_of(l));
	long long len = (long long)json_array_size(l);
	if (size <= 0)
		return tf_fail(c, "runtime error: integer divide by zero");
	json_t *out = json_array();
	for (long long i = 0; i < len; i += size) {
		json_t *part = json_array();
		for (long long j = i; j < i + size && j < len; j++)
			json_array_append(part, json_array_get(l, (size_t)j));
		json_array_append_new(out, part);
	}
	if (!len) /* sprig makes one empty chunk of an empty list */
		json_array_append_new(out, json_array());
	return tf_ret(c, out);
}

int tfx_pluck(struct tmpl_call *c, json_t **a, size_t n)
{
	json_t *out = json_array();
	for (size_t i = 1; i < n; i++) {
		json_t *v = json_object_get(a[i], json_string_value(a[0]));
		if (v)
			json_array_append(out, v);
	}
	return tf_ret(c, out);
}

int tfx_type_is_like(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *t;
	json_t *j = a[1];
	if (!j || json_is_null(j))
		t = "<nil>";
	else
		switch (json_typeof(j)) {
		case JSON_STRING: t = "string"; break;
		case JSON_INTEGER: t = "int"; break;
		case JSON_REAL: t = "float64"; break;
		case JSON_OBJECT: t = "map[string]interface {}"; break;
		case JSON_ARRAY: t = "[]interface {}"; break;
		default: t = "bool"; break;
		}
	const char *want = json_string_value(a[0]);
	char star[256];
	snprintf(star, sizeof star, "*%s", want);
	return tf_ret_bool(c, !strcmp(want, t) || !strcmp(star, t));
}

/* seq: Go's untilStep rendered with spaces. */
static void until_step(struct sbuf *b, long long start, long long stop, long long step)
{
	if (step == 0)
		return;
	if (start < stop) {
		if (step < 0)
			return;
		for (long long i = start; i < stop; i += step)
			sb_printf(b, "%s%lld", b->len ? " " : "", i);
	} else {
		if (step > 0)
			return;
		for (long long i = start; i > stop; i += step)
			sb_printf(b, "%s%lld", b->len ? " " : "", i);
	}
}

int tfx_seq(struct tmpl_call *c, json_t **a, size_t n)
{
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	long long p[3];
	for (size_t i = 0; i < n && i < 3; i++)
		p[i] = (long long)json_integer_value(a[i]);
	if (n == 1) {
		long long inc = p[0] < 1 ? -1 : 1;
		until_step(&b, 1, p[0] + inc, inc);
	} else if (n == 2) {
		long long step = p[1] < p[0] ? -1 : 1;
		until_step(&b, p[0], p[1] + step, step);
	} else if (n == 3) {
		long long inc = 1;
		if (p[2] < p[0]) {
			inc = -1;
			if (p[1] > 0)
				goto done;
		}
		until_step(&b, p[0], p[2] + inc, p[1]);
	}
done:;
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}

/* mustSlice: sprig's slice, its errors returned. */
int tfx_must_slice(struct tmpl_call *c, json_t **a, size_t n)
{
	json_t *l = a[0] && !json_is_null(a[0]) ? a[0] : NULL;
	if (!json_is_array(l))
		return tf_fail(c, "list should be type of slice or array but %s", sprig_kind_of(l));
	long long len = (long long)json_array_size(l);
	if (!len)
		return tf_ret(c, NULL);
	long long start = n > 1 ? (long long)tfx_to_float64(a[1]) : 0, end = n > 2 ? (long long)tfx_to_float64(a[2]) : len;
	if (start < 0 || end < start || end > len)
		return tf_fail(c, "reflect.Value.Slice: slice index out of bounds");
	json_t *out = json_array();
	for (long long i = start; i < end; i++)
		json_array_append(out, json_array_get(l, (size_t)i));
	return tf_ret(c, out);
}

/* Helm's fromJsonArray: a JSON list, or a list holding the error (jansson's wording). */
int tfx_from_json_array(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_error_t e;
	json_t *v = json_loadb(json_string_value(a[0]), json_string_length(a[0]), JSON_DECODE_ANY, &e);
	if (!v)
		return tf_ret(c, json_pack("[s]", e.text));
	if (!json_is_array(v)) {
		char msg[200];
		snprintf(msg, sizeof msg, "json: cannot unmarshal %s into Go value of type []interface {}",
			 json_is_object(v) ? "object" : json_is_string(v) ? "string" : json_is_boolean(v) ? "bool" : "number");
		json_decref(v);
		return tf_ret(c, json_pack("[s]", msg));
	}
	return tf_ret(c, v);
}

/* sprig's mustFromJson: any JSON value, or the error. */
int tfx_must_from_json(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_error_t e;
	json_t *v = json_loadb(json_string_value(a[0]), json_string_length(a[0]), JSON_DECODE_ANY, &e);
	if (!v)
		return tf_fail(c, "%s", e.text);
	return tf_ret(c, v);
}

int tfx_list(struct tmpl_call *c, json_t **a, size_t n)
{
	json_t *l = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(l, a[i] ? a[i] : json_null());
	return tf_ret(c, l);
}

/* sprig's list functions switch on reflect.TypeOf(list).Kind(), which dereferences nil for a nil list:
 * text/template reports that panic. */
static int need_list(struct tmpl_call *c, json_t *l, const char *what)
{
	if (!l || json_is_null(l))
		return tf_fail(c, "runtime error: invalid memory address or nil pointer dereference");
	if (!json_is_array(l)) {
		struct tval v = {l, 0};
		return tf_fail(c, "Cannot %s on type %s", what, tv_type_name(&v));
	}
	return 0;
}

int tfx_append(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "push"))
		return -1;
	json_t *out = json_copy(a[0]);
	json_array_append(out, a[1]);
	return tf_ret(c, out);
}

int tfx_prepend(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "prepend"))
		return -1;
	json_t *out = json_copy(a[0]);
	json_array_insert(out, 0, a[1]);
	return tf_ret(c, out);
}

int tfx_first(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "find first"))
		return -1;
	json_t *v = json_array_get(a[0], 0);
	return tf_ret(c, v ? json_incref(v) : json_null());
}

int tfx_last(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "find last"))
		return -1;
	size_t m = json_array_size(a[0]);
	return tf_ret(c, m ? json_incref(json_array_get(a[0], m - 1)) : json_null());
}

int tfx_uniq(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "find uniq"))
		return -1;
	json_t *out = json_array();
	for (size_t i = 0; i < json_array_size(a[0]); i++) {
		json_t *e = json_array_get(a[0], i);
		int seen = 0;
		for (size_t k = 0; k < json_array_size(out) && !seen; k++)
			seen = json_equal(json_array_get(out, k), e);
		if (!seen)
			json_array_append(out, e);
	}
	return tf_ret(c, out);
}

int tfx_has(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (!a[1] || json_is_null(a[1]))
		return tf_ret_bool(c, 0);
	if (need_list(c, a[1], "find has"))
		return -1;
	for (size_t i = 0; i < json_array_size(a[1]); i++)
		if (json_equal(json_array_get(a[1], i), a[0]))
			return tf_ret_bool(c, 1);
	return tf_ret_bool(c, 0);
}

int tfx_compact(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "compact"))
		return -1;
	json_t *out = json_array();
	for (size_t i = 0; i < json_array_size(a[0]); i++)
		if (!sprig_is_empty(json_array_get(a[0], i)))
			json_array_append(out, json_array_get(a[0], i));
	return tf_ret(c, out);
}

int tfx_without(struct tmpl_call *c, json_t **a, size_t n)
{
	if (need_list(c, a[0], "find without"))
		return -1;
	json_t *out = json_array();
	for (size_t i = 0; i < json_array_size(a[0]); i++) {
		json_t *e = json_array_get(a[0], i);
		int drop = 0;
		for (size_t k = 1; k < n && !drop; k++)
			drop = json_equal(e, a[k]);
		if (!drop)
			json_array_append(out, e);
	}
	return tf_ret(c, out);
}

static int slice_list(struct tmpl_call *c, json_t *l, const char *what, size_t from, size_t drop_end)
{
	if (need_list(c, l, what))
		return -1;
	json_t *out = json_array();
	size_t len = json_array_size(l);
	for (size_t i = from; i + drop_end < len; i++)
		json_array_append(out, json_array_get(l, i));
	return tf_ret(c, out);
}

int tfx_rest(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return slice_list(c, a[0], "find rest", 1, 0); }

int tfx_initial(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return slice_list(c, a[0], "find initial", 0, 1); }

int tfx_reverse(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "find reverse"))
		return -1;
	json_t *out = json_array();
	for (size_t i = json_array_size(a[0]); i-- > 0;)
		json_array_append(out, json_array_get(a[0], i));
	return tf_ret(c, out);
}

int tfx_concat(struct tmpl_call *c, json_t **a, size_t n)
{
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!a[i] || !json_is_array(a[i])) {
			json_decref(out);
			if (!a[i] || json_is_null(a[i]))
				return need_list(c, a[i], "concat");
			struct tval v = {a[i], 0};
			return tf_fail(c, "Cannot concat type %s as list", tv_type_name(&v));
		}
		json_array_extend(out, a[i]);
	}
	return tf_ret(c, out);
}
