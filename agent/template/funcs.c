/* funcs.c — Go's builtin template functions (and, or, not, len, index, slice, print*, eq..ge, html, js, urlquery) and the function registry. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "tmpl_node.h"

int tf_fail(struct tmpl_call *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *tmp = malloc(len > 0 ? (size_t)len + 1 : 1);
	if (!tmp)
		abort();
	tmp[0] = 0;
	if (len > 0) {
		va_start(ap, fmt);
		vsnprintf(tmp, (size_t)len + 1, fmt, ap);
		va_end(ap);
	}
	tmpl_copy_ellipsized(c->err, sizeof c->err, tmp);
	free(tmp);
	return -1;
}

int tf_ret(struct tmpl_call *c, json_t *v)
{
	c->result = v;
	return 0;
}

int tf_ret_str(struct tmpl_call *c, const char *s, size_t n) { return tf_ret(c, json_stringn_nocheck(s ? s : "", s ? n : 0)); }

int tf_ret_int(struct tmpl_call *c, long long i) { return tf_ret(c, json_integer(i)); }

int tf_ret_bool(struct tmpl_call *c, int b) { return tf_ret(c, json_boolean(b)); }

/* A reflect.Value argument as Go's indirectInterface leaves it: NULL for zero, nil interfaces included. */
static json_t *concrete(json_t *j) { return j && !json_is_null(j) ? j : NULL; }

static const char *go_type(json_t *j)
{
	struct tval v = {j, 0};
	return tv_type_name(&v);
}

static int fn_not(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, !tv_truth(concrete(a[0])));
}

/* and/or are evaluated by the executor (they short-circuit); these bodies are never called. */
static int fn_andor(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a;
	(void)n;
	return tf_fail(c, "internal error");
}

static int fn_len(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *j = a[0];
	if (!j)
		return tf_fail(c, "reflect: call of reflect.Value.Type on zero Value");
	if (json_is_null(j))
		return tf_fail(c, "len of nil pointer");
	switch (json_typeof(j)) {
	case JSON_STRING: return tf_ret_int(c, (long long)json_string_length(j));
	case JSON_ARRAY: return tf_ret_int(c, (long long)json_array_size(j));
	case JSON_OBJECT: return tf_ret_int(c, (long long)json_object_size(j));
	default: return tf_fail(c, "len of type %s", go_type(j));
	}
}

/* Go's indexArg: an integer index within [0, cap]. */
static int index_arg(struct tmpl_call *c, json_t *idx, size_t cap, long long *out)
{
	idx = concrete(idx);
	if (!idx)
		return tf_fail(c, "cannot index slice/array with nil");
	if (!json_is_integer(idx))
		return tf_fail(c, "cannot index slice/array with type %s", go_type(idx));
	long long x = (long long)json_integer_value(idx);
	if (x < 0 || (unsigned long long)x > cap)
		return tf_fail(c, "index out of range: %lld", x);
	*out = x;
	return 0;
}

static int fn_index(struct tmpl_call *c, json_t **a, size_t n)
{
	json_t *item = concrete(a[0]);
	if (!item)
		return tf_fail(c, "index of untyped nil");
	json_t *cur = json_incref(item);
	for (size_t i = 1; i < n; i++) {
		if (json_is_null(cur)) {
			json_decref(cur);
			return tf_fail(c, "index of nil pointer");
		}
		json_t *next = NULL;
		if (json_is_array(cur) || json_is_string(cur)) {
			size_t len = json_is_array(cur) ? json_array_size(cur) : json_string_length(cur);
			long long x;
			if (index_arg(c, a[i], len, &x)) {
				json_decref(cur);
				return -1;
			}
			if ((size_t)x == len) { /* Go 1.19 lets reflect catch this one */
				int is_arr = json_is_array(cur);
				json_decref(cur);
				return tf_fail(c, "reflect: %s index out of range", is_arr ? "slice" : "string");
			}
			next = json_is_array(cur) ? json_incref(json_array_get(cur, (size_t)x))
						  : json_integer((unsigned char)json_string_value(cur)[x]);
		} else if (json_is_object(cur)) {
			json_t *k = concrete(a[i]);
			if (!k) {
				json_decref(cur);
				return tf_fail(c, "value is nil; should be of type string");
			}
			if (!json_is_string(k)) {
				json_decref(cur);
				return tf_fail(c, "value has type %s; should be string", go_type(k));
			}
			json_t *v = json_object_get(cur, json_string_value(k));
			next = v ? json_incref(v) : json_null();
		} else {
			const char *t = go_type(cur);
			json_decref(cur);
			return tf_fail(c, "can't index item of type %s", t);
		}
		json_decref(cur);
		cur = next;
	}
	return tf_ret(c, cur);
}

/* cast.ToInt as sprig's slice reads its indices */
static long long sprig_to_int(json_t *j)
{
	if (json_is_integer(j))
		return (long long)json_integer_value(j);
	if (json_is_real(j))
		return (long long)json_real_value(j);
	if (json_is_true(j))
		return 1;
	if (json_is_string(j))
		return strtoll(json_string_value(j), NULL, 0);
	return 0;
}

/* Helm's slice is sprig's (it replaces Go's builtin): lists only, indices converted. */
static int sprig_slice(struct tmpl_call *c, json_t **a, size_t n)
{
	json_t *item = concrete(a[0]);
	if (!json_is_array(item))
		return tf_fail(c, "list should be type of slice or array but %s",
			       !item ? "invalid" : json_is_string(item) ? "string" : json_is_object(item) ? "map" :
			       json_is_integer(item) ? "int" : json_is_real(item) ? "float64" : "bool");
	long long l = (long long)json_array_size(item);
	if (!l)
		return tf_ret(c, NULL);
	long long start = n > 1 ? sprig_to_int(a[1]) : 0, end = n > 2 ? sprig_to_int(a[2]) : l;
	if (start < 0 || end < start || end > l)
		return tf_fail(c, "reflect.Value.Slice: slice index out of bounds");
	json_t *out = json_array();
	for (long long i = start; i < end; i++)
		json_array_append(out, json_array_get(item, (size_t)i));
	return tf_ret(c, out);
}

static int fn_slice(struct tmpl_call *c, json_t **a, size_t n)
{
	if (tmpl_exec_set(c->st)->helm)
		return sprig_slice(c, a, n);
	json_t *item = concrete(a[0]);
	if (!item)
		return tf_fail(c, "slice of untyped nil");
	if (n - 1 > 3)
		return tf_fail(c, "too many slice indexes: %zu", n - 1);
	size_t cap;
	if (json_is_string(item)) {
		if (n - 1 == 3)
			return tf_fail(c, "cannot 3-index slice a string");
		cap = json_string_length(item);
	} else if (json_is_array(item)) {
		cap = json_array_size(item);
	} else {
		return tf_fail(c, "can't slice item of type %s", go_type(item));
	}
	long long idx[3] = {0, (long long)cap, (long long)cap};
	for (size_t i = 1; i < n; i++) {
		/* unlike index, slice does not unwrap interface values: a map's number is not an int here */
		if (c->boxed && c->boxed[i])
			return tf_fail(c, "cannot index slice/array with type interface {}");
		if (index_arg(c, a[i], cap, &idx[i - 1]))
			return -1;
	}
	if (idx[0] > idx[1])
		return tf_fail(c, "invalid slice index: %lld > %lld", idx[0], idx[1]);
	if (n - 1 == 3 && idx[1] > idx[2])
		return tf_fail(c, "invalid slice index: %lld > %lld", idx[1], idx[2]);
	if (json_is_string(item))
		return tf_ret_str(c, json_string_value(item) + idx[0], (size_t)(idx[1] - idx[0]));
	json_t *out = json_array();
	for (long long i = idx[0]; i < idx[1]; i++)
		json_array_append(out, json_array_get(item, (size_t)i));
	return tf_ret(c, out);
}

static int ret_sbuf(struct tmpl_call *c, struct sbuf *b)
{
	int rc = tf_ret_str(c, b->s, b->len);
	free(b->s);
	return rc;
}

static int fn_print(struct tmpl_call *c, json_t **a, size_t n)
{
	struct sbuf b = {0};
	go_sprint(&b, a, n);
	return ret_sbuf(c, &b);
}

static int fn_println(struct tmpl_call *c, json_t **a, size_t n)
{
	struct sbuf b = {0};
	go_sprintln(&b, a, n);
	return ret_sbuf(c, &b);
}

static int fn_printf(struct tmpl_call *c, json_t **a, size_t n)
{
	struct sbuf b = {0};
	go_sprintf(&b, json_string_value(a[0]), json_string_length(a[0]), a + 1, n - 1);
	return ret_sbuf(c, &b);
}

/* ---- comparisons ---- */

enum basic_kind { BK_INVALID, BK_BOOL, BK_FLOAT, BK_INT, BK_STRING };

static enum basic_kind basic_kind(json_t *j)
{
	if (!j)
		return BK_INVALID;
	switch (json_typeof(j)) {
	case JSON_TRUE:
	case JSON_FALSE: return BK_BOOL;
	case JSON_REAL: return BK_FLOAT;
	case JSON_INTEGER: return BK_INT;
	case JSON_STRING: return BK_STRING;
	default: return BK_INVALID;
	}
}

static int eq_values(struct tmpl_call *c, json_t *x, json_t *y, int *truth)
{
	enum basic_kind k1 = basic_kind(x), k2 = basic_kind(y);
	*truth = 0;
	if (k1 != k2) {
		if (x && y)
			return tf_fail(c, "incompatible types for comparison");
		return 0;
	}
	switch (k1) {
	case BK_BOOL: *truth = json_is_true(x) == json_is_true(y); return 0;
	case BK_FLOAT: *truth = json_real_value(x) == json_real_value(y); return 0;
	case BK_INT: *truth = json_integer_value(x) == json_integer_value(y); return 0;
	case BK_STRING:
		*truth = json_string_length(x) == json_string_length(y) &&
			 !memcmp(json_string_value(x), json_string_value(y), json_string_length(x));
		return 0;
	case BK_INVALID:
		break;
	}
	/* maps and slices: comparable only against a nil value */
	if (x && y && json_typeof(x) != json_typeof(y)) {
		struct sbuf b = {0};
		json_t *args[4] = {x, json_string_nocheck(go_type(x)), json_string_nocheck(go_type(y)), y};
		go_sprintf(&b, "non-comparable types %s: %v, %s: %v", strlen("non-comparable types %s: %v, %s: %v"), args, 4);
		json_decref(args[1]);
		json_decref(args[2]);
		int rc = tf_fail(c, "%s", b.s);
		free(b.s);
		return rc;
	}
	if (!x || !y) {
		*truth = !x == !y;
		return 0;
	}
	struct sbuf b = {0};
	json_t *args[2] = {y, json_string_nocheck(go_type(y))};
	go_sprintf(&b, "non-comparable type %s: %v", strlen("non-comparable type %s: %v"), args, 2);
	json_decref(args[1]);
	int rc = tf_fail(c, "%s", b.s);
	free(b.s);
	return rc;
}

static int fn_eq(struct tmpl_call *c, json_t **a, size_t n)
{
	json_t *x = concrete(a[0]);
	if (n < 2)
		return tf_fail(c, "missing argument for comparison");
	for (size_t i = 1; i < n; i++) {
		int t;
		if (eq_values(c, x, concrete(a[i]), &t))
			return -1;
		if (t)
			return tf_ret_bool(c, 1);
	}
	return tf_ret_bool(c, 0);
}

static int fn_ne(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int t;
	if (eq_values(c, concrete(a[0]), concrete(a[1]), &t))
		return -1;
	return tf_ret_bool(c, !t);
}

static int less_than(struct tmpl_call *c, json_t *x, json_t *y, int *truth)
{
	enum basic_kind k1 = basic_kind(x), k2 = basic_kind(y);
	if (k1 == BK_INVALID || k2 == BK_INVALID)
		return tf_fail(c, "invalid type for comparison");
	if (k1 != k2)
		return tf_fail(c, "incompatible types for comparison");
	switch (k1) {
	case BK_FLOAT: *truth = json_real_value(x) < json_real_value(y); return 0;
	case BK_INT: *truth = json_integer_value(x) < json_integer_value(y); return 0;
	case BK_STRING: {
		size_t lx = json_string_length(x), ly = json_string_length(y);
		int r = memcmp(json_string_value(x), json_string_value(y), lx < ly ? lx : ly);
		*truth = r < 0 || (r == 0 && lx < ly);
		return 0;
	}
	default:
		return tf_fail(c, "invalid type for comparison");
	}
}

static int fn_lt(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int t;
	if (less_than(c, concrete(a[0]), concrete(a[1]), &t))
		return -1;
	return tf_ret_bool(c, t);
}

static int less_equal(struct tmpl_call *c, json_t **a, int *t)
{
	if (less_than(c, concrete(a[0]), concrete(a[1]), t))
		return -1;
	if (*t)
		return 0;
	return eq_values(c, concrete(a[0]), concrete(a[1]), t);
}

static int fn_le(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int t;
	if (less_equal(c, a, &t))
		return -1;
	return tf_ret_bool(c, t);
}

static int fn_gt(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int t;
	if (less_equal(c, a, &t))
		return -1;
	return tf_ret_bool(c, !t);
}

static int fn_ge(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int t;
	if (less_than(c, concrete(a[0]), concrete(a[1]), &t))
		return -1;
	return tf_ret_bool(c, !t);
}

/* ---- escapers ---- */

/* Go's evalArgs: a single string argument as is, otherwise fmt.Sprint of all, nil printing as "<no value>". */
static void eval_args(struct sbuf *b, json_t **a, size_t n)
{
	if (n == 1 && a[0] && json_is_string(a[0])) {
		sb_add(b, json_string_value(a[0]), json_string_length(a[0]));
		return;
	}
	json_t **p = calloc(n ? n : 1, sizeof *p);
	json_t *novalue = json_string("<no value>");
	if (!p || !novalue)
		abort();
	for (size_t i = 0; i < n; i++)
		p[i] = a[i] && !json_is_null(a[i]) ? a[i] : novalue;
	go_sprint(b, p, n);
	json_decref(novalue);
	free(p);
}

static int fn_html(struct tmpl_call *c, json_t **a, size_t n)
{
	struct sbuf in = {0}, out = {0};
	eval_args(&in, a, n);
	for (size_t i = 0; i < in.len; i++) {
		switch (in.s[i]) {
		case '"': sb_puts(&out, "&#34;"); break;
		case '\'': sb_puts(&out, "&#39;"); break;
		case '&': sb_puts(&out, "&amp;"); break;
		case '<': sb_puts(&out, "&lt;"); break;
		case '>': sb_puts(&out, "&gt;"); break;
		case 0: sb_puts(&out, "\xEF\xBF\xBD"); break;
		default: sb_putc(&out, in.s[i]);
		}
	}
	free(in.s);
	return ret_sbuf(c, &out);
}

static int fn_js(struct tmpl_call *c, json_t **a, size_t n)
{
	struct sbuf in = {0}, out = {0};
	eval_args(&in, a, n);
	for (size_t i = 0; i < in.len; i++) {
		unsigned char ch = (unsigned char)in.s[i];
		switch (ch) {
		case '\\': sb_puts(&out, "\\\\"); break;
		case '\'': sb_puts(&out, "\\'"); break;
		case '"': sb_puts(&out, "\\\""); break;
		case '<': sb_puts(&out, "\\u003C"); break;
		case '>': sb_puts(&out, "\\u003E"); break;
		case '&': sb_puts(&out, "\\u0026"); break;
		case '=': sb_puts(&out, "\\u003D"); break;
		default:
			if (ch < ' ') {
				sb_printf(&out, "\\u%04X", ch);
			} else if (ch >= 0xC0) {
				/* non-printable runes (separators, format characters) are escaped as Go does */
				size_t w = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : 2;
				long r = ch & (0x3F >> (w - 1));
				int ok = i + w <= in.len;
				for (size_t k = 1; ok && k < w; k++) {
					ok = ((unsigned char)in.s[i + k] & 0xC0) == 0x80;
					r = (r << 6) | ((unsigned char)in.s[i + k] & 0x3F);
				}
				int unprintable = ok && ((r >= 0x80 && r <= 0xA0) || r == 0xAD || (r >= 0x2000 && r <= 0x200F) ||
							 (r >= 0x2028 && r <= 0x202F) || (r >= 0x205F && r <= 0x206F) ||
							 r == 0x3000 || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB));
				if (unprintable) {
					sb_printf(&out, "\\u%04lX", r);
					i += w - 1;
				} else {
					sb_putc(&out, (char)ch);
				}
			} else {
				sb_putc(&out, (char)ch);
			}
		}
	}
	free(in.s);
	return ret_sbuf(c, &out);
}

static int fn_urlquery(struct tmpl_call *c, json_t **a, size_t n)
{
	struct sbuf in = {0}, out = {0};
	eval_args(&in, a, n);
	for (size_t i = 0; i < in.len; i++) {
		unsigned char ch = (unsigned char)in.s[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		    ch == '_' || ch == '.' || ch == '~')
			sb_putc(&out, (char)ch);
		else if (ch == ' ')
			sb_putc(&out, '+');
		else
			sb_printf(&out, "%%%02X", ch);
	}
	free(in.s);
	return ret_sbuf(c, &out);
}

static const struct tmpl_func builtins[] = {
	{"and", "vv*", fn_andor},
	{"eq", "vv*", fn_eq},
	{"ge", "vv", fn_ge},
	{"gt", "vv", fn_gt},
	{"html", "a*", fn_html},
	{"index", "vv*", fn_index},
	{"js", "a*", fn_js},
	{"le", "vv", fn_le},
	{"len", "v", fn_len},
	{"lt", "vv", fn_lt},
	{"ne", "vv", fn_ne},
	{"not", "v", fn_not},
	{"or", "vv*", fn_andor},
	{"print", "a*", fn_print},
	{"printf", "sa*", fn_printf},
	{"println", "a*", fn_println},
	{"slice", "vv*", fn_slice},
	{"urlquery", "a*", fn_urlquery},
};

const struct tmpl_func *tmpl_builtin_funcs(size_t *n)
{
	*n = sizeof builtins / sizeof builtins[0];
	return builtins;
}

const struct tmpl_func *tmpl_find_func(const struct tmpl_set *set, const char *name)
{
	for (const struct tmpl_set *s = set; s; s = s->parent)
		for (const struct tmpl_funcs_batch *b = s->funcs; b; b = b->next)
			for (size_t i = b->n; i-- > 0;)
				if (!strcmp(b->f[i].name, name))
					return &b->f[i];
	size_t n;
	const struct tmpl_func *t = tmpl_builtin_funcs(&n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

/* Go's Funcs panics on a name that is not an identifier (goodName): a letter or '_' first, then
 * letters, digits and '_'. */
static int good_name(const char *s)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++)
		if (!(*p == '_' || isalpha((unsigned char)*p) || (p > s && isdigit((unsigned char)*p)) ||
		      (unsigned char)*p >= 0x80))
			return 0;
	return 1;
}

static int good_sig(const char *s)
{
	if (!s)
		return 0;
	for (const char *p = s; *p; p++)
		if (!strchr("sifbamvS", *p) && !(*p == '*' && p > s && !p[1]))
			return 0;
	return 1;
}

int tmpl_set_funcs(struct tmpl_set *set, const struct tmpl_func *funcs, size_t n)
{
	return tmpl_set_funcs_ctx(set, funcs, n, NULL);
}

int tmpl_set_funcs_ctx(struct tmpl_set *set, const struct tmpl_func *funcs, size_t n, void *ctx)
{
	for (size_t i = 0; i < n; i++)
		if (!good_name(funcs[i].name) || !good_sig(funcs[i].sig) || !funcs[i].fn) {
			errno = EINVAL;
			return -1;
		}
	if (!n)
		return 0;
	struct tmpl_funcs_batch *b = malloc(sizeof *b + n * sizeof *funcs);
	if (!b)
		abort();
	b->n = n;
	b->ctx = ctx;
	memcpy(b->f, funcs, n * sizeof *funcs);
	b->next = set->funcs;
	set->funcs = b;
	return 0;
}

void *tf_ctx(const struct tmpl_call *c) { return c->fn_ctx; }

void *tmpl_func_ctx(const struct tmpl_set *set, const struct tmpl_func *fn)
{
	uintptr_t p = (uintptr_t)fn;
	for (const struct tmpl_set *s = set; s; s = s->parent)
		for (const struct tmpl_funcs_batch *b = s->funcs; b; b = b->next)
			if (b->ctx && p >= (uintptr_t)b->f && p < (uintptr_t)(b->f + b->n))
				return b->ctx;
	return NULL;
}
