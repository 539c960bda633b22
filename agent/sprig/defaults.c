/* defaults.c — sprig's defaults.go: default, empty, coalesce, all, any, ternary, fail, and the JSON functions (toJson, toPrettyJson, toRawJson, fromJson with Helm's error map). */
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

int tfx_default(struct tmpl_call *c, json_t **a, size_t n)
{
	if (n < 2 || sprig_is_empty(a[1]))
		return tf_ret(c, json_incref(a[0]));
	return tf_ret(c, json_incref(a[1]));
}

int tfx_empty(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, sprig_is_empty(a[0]));
}

int tfx_coalesce(struct tmpl_call *c, json_t **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!sprig_is_empty(a[i]))
			return tf_ret(c, json_incref(a[i]));
	return tf_ret(c, json_null());
}

int tfx_ternary(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret(c, json_incref(json_is_true(a[2]) ? a[0] : a[1]));
}

int tfx_fail(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_fail(c, "%s", S(a[0]));
}

/* encoding/json's string form: HTML-safe escapes, \u00XX for other control bytes. */
static void json_quote(struct sbuf *b, const char *s, size_t n)
{
	sb_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		switch (ch) {
		case '"': sb_puts(b, "\\\""); break;
		case '\\': sb_puts(b, "\\\\"); break;
		case '\n': sb_puts(b, "\\n"); break;
		case '\r': sb_puts(b, "\\r"); break;
		case '\t': sb_puts(b, "\\t"); break;
		case '<': case '>': case '&': sb_printf(b, "\\u%04x", ch); break;
		default:
			if (ch < 0x20) {
				sb_printf(b, "\\u%04x", ch);
			} else if (ch == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
				   ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
				sb_printf(b, "\\u202%c", (unsigned char)s[i + 2] == 0xA8 ? '8' : '9');
				i += 2;
			} else {
				sb_putc(b, (char)ch);
			}
		}
	}
	sb_putc(b, '"');
}

static void json_float(struct sbuf *b, double f)
{
	double af = fabs(f);
	if (af != 0 && (af < 1e-6 || af >= 1e21)) {
		struct sbuf t = {0};
		go_format_float(&t, f, 'e', -1);
		/* Go trims the exponent's leading zero: e-07 -> e-7 */
		char *e = t.s ? strchr(t.s, 'e') : NULL;
		if (e && (e[1] == '-' || e[1] == '+') && e[2] == '0' && e[3]) {
			memmove(e + 2, e + 3, strlen(e + 3) + 1);
			t.len--;
		}
		sb_add(b, t.s, t.len);
		free(t.s);
	} else {
		go_format_float(b, f, 'f', -1);
	}
}

static void json_encode(struct sbuf *b, json_t *j, const char *indent, int level)
{
	if (!j || json_is_null(j)) {
		sb_puts(b, "null");
		return;
	}
	switch (json_typeof(j)) {
	case JSON_STRING: json_quote(b, S(j), SL(j)); return;
	case JSON_INTEGER: sb_printf(b, "%lld", (long long)json_integer_value(j)); return;
	case JSON_REAL: json_float(b, json_real_value(j)); return;
	case JSON_TRUE: sb_puts(b, "true"); return;
	case JSON_FALSE: sb_puts(b, "false"); return;
	case JSON_ARRAY:
		if (!json_array_size(j)) {
			sb_puts(b, "[]");
			return;
		}
		sb_putc(b, '[');
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i)
				sb_putc(b, ',');
			if (indent) {
				sb_putc(b, '\n');
				for (int k = 0; k <= level; k++)
					sb_puts(b, indent);
			}
			json_encode(b, json_array_get(j, i), indent, level + 1);
		}
		if (indent) {
			sb_putc(b, '\n');
			for (int k = 0; k < level; k++)
				sb_puts(b, indent);
		}
		sb_putc(b, ']');
		return;
	case JSON_OBJECT: {
		size_t n = json_object_size(j), i = 0;
		if (!n) {
			sb_puts(b, "{}");
			return;
		}
		const char **keys = malloc(n * sizeof *keys);
		if (!keys)
			abort();
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) keys[i++] = k;
		qsort(keys, n, sizeof *keys, sprig_cmp_keys);
		sb_putc(b, '{');
		for (i = 0; i < n; i++) {
			if (i)
				sb_putc(b, ',');
			if (indent) {
				sb_putc(b, '\n');
				for (int l = 0; l <= level; l++)
					sb_puts(b, indent);
			}
			json_quote(b, keys[i], strlen(keys[i]));
			sb_puts(b, indent ? ": " : ":");
			json_encode(b, json_object_get(j, keys[i]), indent, level + 1);
		}
		if (indent) {
			sb_putc(b, '\n');
			for (int l = 0; l < level; l++)
				sb_puts(b, indent);
		}
		sb_putc(b, '}');
		free(keys);
		return;
	}
	default:
		return;
	}
}

int tfx_to_json(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	json_encode(&b, a[0], NULL, 0);
	return sprig_ret_sbuf(c, &b);
}

int tfx_to_pretty_json(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	json_encode(&b, a[0], "  ", 0);
	return sprig_ret_sbuf(c, &b);
}

int tfx_from_json(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_error_t e;
	json_t *v = json_loadb(S(a[0]), SL(a[0]), JSON_DECODE_ANY, &e);
	if (!v) /* jansson's wording, not encoding/json's */
		return tf_ret(c, sprig_error_map("%s", e.text));
	if (!json_is_object(v)) {
		json_t *m = sprig_error_map("json: cannot unmarshal %s into Go value of type map[string]interface {}",
				      sprig_json_kind(v));
		json_decref(v);
		return tf_ret(c, m);
	}
	return tf_ret(c, v);
}

int tfx_all(struct tmpl_call *c, json_t **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sprig_is_empty(a[i]))
			return tf_ret_bool(c, 0);
	return tf_ret_bool(c, 1);
}

int tfx_any(struct tmpl_call *c, json_t **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!sprig_is_empty(a[i]))
			return tf_ret_bool(c, 1);
	return tf_ret_bool(c, 0);
}

int tfx_to_raw_json(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	/* like toJson, without the HTML-safe escapes of <, > and & */
	struct sbuf b = {0};
	json_encode(&b, a[0], NULL, 0);
	struct sbuf r = {0};
	sb_add(&r, "", 0);
	for (size_t i = 0; i < b.len; i++) {
		if (i + 5 < b.len && b.s[i] == '\\' && !strncmp(b.s + i + 1, "u00", 3) &&
		    (!strncmp(b.s + i + 4, "3c", 2) || !strncmp(b.s + i + 4, "3e", 2) || !strncmp(b.s + i + 4, "26", 2))) {
			sb_putc(&r, b.s[i + 5] == 'c' ? '<' : b.s[i + 5] == 'e' ? '>' : '&');
			i += 5;
			continue;
		}
		if (b.s[i] == '\\' && i + 1 < b.len) { /* keep other escapes (and escaped backslashes) whole */
			sb_add(&r, b.s + i, 2);
			i++;
			continue;
		}
		sb_putc(&r, b.s[i]);
	}
	free(b.s);
	return sprig_ret_sbuf(c, &r);
}
