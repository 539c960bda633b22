/* toml.c — Helm's toToml (BurntSushi/toml's Encoder layout), fromToml and toYamlPretty template functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_node.h"
#include "toml.h"
#include "yamlemit.h"

/* ---- the encoder ---- */

struct enc {
	struct sbuf b;
	int written; /* BurntSushi's hasWritten: newline() writes only after the first output */
	const char *err;
	const char **key; /* the current key path */
	size_t nkey, capkey;
};

static void wf(struct enc *e, const char *s, size_t n)
{
	sb_add(&e->b, s, n);
	e->written = 1;
}

static void wputs(struct enc *e, const char *s) { wf(e, s, strlen(s)); }

static void newline(struct enc *e)
{
	if (e->written)
		wputs(e, "\n");
}

static void push_key(struct enc *e, const char *k)
{
	if (e->nkey == e->capkey) {
		e->capkey = e->capkey ? e->capkey * 2 : 8;
		e->key = realloc(e->key, e->capkey * sizeof *e->key);
		if (!e->key)
			abort();
	}
	e->key[e->nkey++] = k;
}

/* BurntSushi's dblQuotedReplacer. */
static void quoted(struct enc *e, const char *s, size_t n)
{
	sb_putc(&e->b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char u[8];
		switch (c) {
		case '"': sb_puts(&e->b, "\\\""); break;
		case '\\': sb_puts(&e->b, "\\\\"); break;
		case '\b': sb_puts(&e->b, "\\b"); break;
		case '\t': sb_puts(&e->b, "\\t"); break;
		case '\n': sb_puts(&e->b, "\\n"); break;
		case '\f': sb_puts(&e->b, "\\f"); break;
		case '\r': sb_puts(&e->b, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(u, sizeof u, "\\u%04x", c);
				sb_puts(&e->b, u);
			} else {
				sb_putc(&e->b, (char)c);
			}
		}
	}
	sb_putc(&e->b, '"');
	e->written = 1;
}

/* Key.maybeQuoted: bare when every character is A-Za-z0-9_- (and it is not empty). */
static void key_part(struct enc *e, const char *k)
{
	size_t n = strlen(k);
	int bare = n > 0;
	for (size_t i = 0; i < n && bare; i++) {
		char c = k[i];
		bare = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
	}
	if (bare)
		wputs(e, k);
	else
		quoted(e, k, n);
}

static void key_path(struct enc *e)
{
	for (size_t i = 0; i < e->nkey; i++) {
		if (i)
			wputs(e, ".");
		key_part(e, e->key[i]);
	}
}

static void indent(struct enc *e)
{
	for (size_t i = 1; i < e->nkey; i++)
		wputs(e, "  ");
}

/* tomlTypeOfGo's verdicts that matter here: a table, an array of tables, or a plain value.
 * An array holding a nil anywhere (through arrays) is BurntSushi's errArrayNilElement. */
enum ttype { T_NIL, T_VALUE, T_TABLE, T_AOT };

static enum ttype type_of(struct enc *e, json_t *v)
{
	if (!v || json_is_null(v))
		return T_NIL;
	if (json_is_object(v))
		return T_TABLE;
	if (!json_is_array(v))
		return T_VALUE;
	size_t n = json_array_size(v);
	int all = n > 0;
	for (size_t i = 0; i < n; i++) {
		enum ttype t = type_of(e, json_array_get(v, i));
		if (t == T_NIL && !e->err)
			e->err = "toml: cannot encode array with nil element";
		if (t != T_TABLE)
			all = 0;
	}
	return all ? T_AOT : T_VALUE;
}

static void element(struct enc *e, json_t *v);

static int cmp_keys(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* eMap: the plain keys sorted, then the tables sorted; inline as {k = v, ...}. */
static void encode(struct enc *e, json_t *v);

static void emap(struct enc *e, json_t *m, int inl)
{
	size_t n = json_object_size(m), nd = 0, ns = 0;
	const char **direct = malloc((n + 1) * sizeof *direct), **sub = malloc((n + 1) * sizeof *sub);
	if (!direct || !sub)
		abort();
	const char *k;
	json_t *val;
	json_object_foreach(m, k, val) {
		enum ttype t = type_of(e, val);
		if (t == T_TABLE || t == T_AOT)
			sub[ns++] = k;
		else
			direct[nd++] = k;
	}
	qsort(direct, nd, sizeof *direct, cmp_keys);
	qsort(sub, ns, sizeof *sub, cmp_keys);
	if (inl)
		wputs(e, "{");
	for (int pass = 0; pass < 2 && !e->err; pass++) {
		const char **keys = pass ? sub : direct;
		size_t cnt = pass ? ns : nd;
		int trail = !pass && ns > 0;
		for (size_t i = 0; i < cnt && !e->err; i++) {
			json_t *c = json_object_get(m, keys[i]);
			if (json_is_null(c))
				continue;
			if (inl) {
				key_part(e, keys[i]);
				wputs(e, " = ");
				element(e, c);
				if (trail || i != cnt - 1)
					wputs(e, ", ");
			} else {
				push_key(e, keys[i]);
				encode(e, c);
				e->nkey--;
			}
		}
	}
	if (inl)
		wputs(e, "}");
	free(direct);
	free(sub);
}

static void element(struct enc *e, json_t *v)
{
	char buf[64];
	switch (json_typeof(v)) {
	case JSON_STRING: quoted(e, json_string_value(v), json_string_length(v)); break;
	case JSON_TRUE: wputs(e, "true"); break;
	case JSON_FALSE: wputs(e, "false"); break;
	case JSON_INTEGER:
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
		wputs(e, buf);
		break;
	case JSON_REAL: {
		struct sbuf f = {0};
		go_format_float(&f, json_real_value(v), 'f', -1);
		wf(e, f.s, f.len);
		if (!memchr(f.s, '.', f.len)) /* floatAddDecimal */
			wputs(e, ".0");
		free(f.s);
		break;
	}
	case JSON_ARRAY:
		wputs(e, "[");
		for (size_t i = 0; i < json_array_size(v) && !e->err; i++) {
			json_t *c = json_array_get(v, i);
			if (json_is_null(c)) {
				e->err = "toml: cannot encode array with nil element";
				break;
			}
			element(e, c);
			if (i != json_array_size(v) - 1)
				wputs(e, ", ");
		}
		wputs(e, "]");
		break;
	case JSON_OBJECT: emap(e, v, 1); break;
	default: break;
	}
}

static void key_value(struct enc *e, json_t *v)
{
	if (!e->nkey) {
		element(e, v);
		return;
	}
	indent(e);
	key_part(e, e->key[e->nkey - 1]);
	wputs(e, " = ");
	element(e, v);
	newline(e);
}

static void encode(struct enc *e, json_t *v)
{
	if (e->err || !v || json_is_null(v))
		return;
	if (json_is_object(v)) { /* eTable */
		if (e->nkey == 1)
			newline(e);
		if (e->nkey) {
			indent(e);
			wputs(e, "[");
			key_path(e);
			wputs(e, "]");
			newline(e);
		}
		emap(e, v, 0);
		return;
	}
	if (json_is_array(v) && type_of(e, v) == T_AOT) {
		if (!e->nkey) {
			e->err = "toml: top-level values must be Go maps or structs";
			return;
		}
		for (size_t i = 0; i < json_array_size(v) && !e->err; i++) {
			newline(e);
			indent(e);
			wputs(e, "[[");
			key_path(e);
			wputs(e, "]]");
			newline(e);
			emap(e, json_array_get(v, i), 0);
		}
		return;
	}
	if (!e->err)
		key_value(e, v);
}

char *toml_encode(json_t *v, struct sm_error *err)
{
	struct enc e = {0};
	sb_add(&e.b, "", 0);
	encode(&e, v);
	free(e.key);
	if (e.err) {
		sm_error_set(err, NULL, 0, 0, "%s", e.err);
		free(e.b.s);
		return NULL;
	}
	return sb_take(&e.b);
}

/* ---- the template functions ---- */

/* toToml: the document, or the encoder's error text as the result (Helm's toTOML). */
int tfx_to_toml(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (!a[0] || json_is_null(a[0])) /* reflect.ValueOf(nil) reaches the encoder as the zero Value */
		return tf_fail(c, "reflect: call of reflect.Value.Type on zero Value");
	struct sm_error err;
	char *t = toml_encode(a[0], &err);
	int rc = t ? tf_ret_str(c, t, strlen(t)) : tf_ret_str(c, err.msg, strlen(err.msg));
	free(t);
	return rc;
}

/* fromToml: a map, or {"Error": "toml: line N (last key \"k\"): msg"} as BurntSushi's ParseError prints. */
int tfx_from_toml(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct toml_error e;
	json_t *m = toml_parse(json_string_value(a[0]), json_string_length(a[0]), &e);
	if (m)
		return tf_ret(c, m);
	struct sbuf b = {0};
	sb_printf(&b, "toml: line %d", e.go_line);
	if (*e.key) {
		sb_puts(&b, " (last key ");
		go_quote(&b, e.key, strlen(e.key), 0);
		sb_puts(&b, ")");
	}
	sb_printf(&b, ": %s", e.msg);
	m = json_object();
	json_object_set_new(m, "Error", json_stringn(b.s, b.len));
	free(b.s);
	return tf_ret(c, m);
}

/* toYamlPretty: yaml.v3 with two-space indentation, the final newline trimmed ("" on error, never here). */
int tfx_to_yaml_pretty(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	size_t len;
	char *y = yaml_emit_pretty(a[0], &len);
	if (len && y[len - 1] == '\n')
		len--;
	int rc = tf_ret_str(c, y, len);
	free(y);
	return rc;
}
