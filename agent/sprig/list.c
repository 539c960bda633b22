/* list.c — sprig's list/dict functions missing from tmpl_sprig.c: deepCopy, chunk, pluck, typeIsLike, seq. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sprig.h"
#include "tmpl_node.h"

int tfx_deep_copy(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (!a[0] || json_is_null(a[0]))
		return tf_ret(c, NULL);
	return tf_ret(c, json_deep_copy(a[0]));
}

static const char *kind_name(json_t *j)
{
	if (!j || json_is_null(j))
		return "invalid";
	switch (json_typeof(j)) {
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int";
	case JSON_REAL: return "float64";
	case JSON_OBJECT: return "map";
	case JSON_ARRAY: return "slice";
	default: return "bool";
	}
}

int tfx_chunk(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	long long size = (long long)json_integer_value(a[0]);
	json_t *l = a[1];
	if (!json_is_array(l))
		return tf_fail(c, "Cannot chunk type %s", kind_name(l));
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

int tfx_pluck(struct fcall *c, json_t **a, size_t n)
{
	json_t *out = json_array();
	for (size_t i = 1; i < n; i++) {
		json_t *v = json_object_get(a[i], json_string_value(a[0]));
		if (v)
			json_array_append(out, v);
	}
	return tf_ret(c, out);
}

int tfx_type_is_like(struct fcall *c, json_t **a, size_t n)
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

int tfx_seq(struct fcall *c, json_t **a, size_t n)
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
int tfx_must_slice(struct fcall *c, json_t **a, size_t n)
{
	json_t *l = a[0] && !json_is_null(a[0]) ? a[0] : NULL;
	if (!json_is_array(l))
		return tf_fail(c, "list should be type of slice or array but %s", kind_name(l));
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
int tfx_from_json_array(struct fcall *c, json_t **a, size_t n)
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
int tfx_must_from_json(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	json_error_t e;
	json_t *v = json_loadb(json_string_value(a[0]), json_string_length(a[0]), JSON_DECODE_ANY, &e);
	if (!v)
		return tf_fail(c, "%s", e.text);
	return tf_ret(c, v);
}
