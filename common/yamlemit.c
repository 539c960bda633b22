/* yamlemit.c — jansson -> YAML text with sigs.k8s.io/yaml's (yaml.v2 emitter) layout and quoting choices. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlemit.h"

struct out {
	char *s;
	size_t len, cap;
	int pretty; /* yaml.v3 with SetIndent(2) (Helm's toYamlPretty): see yaml_emit_pretty */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t ncap = o->cap ? o->cap : 256;
		while (ncap < o->len + n + 1)
			ncap *= 2;
		char *ns = realloc(o->s, ncap);
		if (!ns)
			abort();
		o->s = ns;
		o->cap = ncap;
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = 0;
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

/* Column of the next character on the current output line, counted in runes like libyaml. */
static int column(const struct out *o)
{
	int col = 0;
	for (size_t i = o->len; i > 0 && o->s[i - 1] != '\n'; i--)
		if (((unsigned char)o->s[i - 1] & 0xC0) != 0x80)
			col++;
	return col;
}

/* yaml.v2 keeps libyaml's preferred width: scalars fold at a space once past column 80. */
#define BEST_WIDTH 80

static void spaces(struct out *o, int n)
{
	for (int i = 0; i < n; i++)
		put(o, " ", 1);
}

/* ---- what a plain scalar would resolve to (yaml.v2's resolve) ---- */

static int all_in(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, s[i]))
			return 0;
	return n > 0;
}

static int looks_int(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= n)
		return 0;
	if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
		return all_in(s + i + 2, n - i - 2, "0123456789abcdefABCDEF_");
	if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'b' || s[i + 1] == 'B'))
		return all_in(s + i + 2, n - i - 2, "01_");
	if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'o' || s[i + 1] == 'O'))
		return all_in(s + i + 2, n - i - 2, "01234567_");
	return all_in(s + i, n - i, "0123456789_") && s[i] != '_';
}

static int looks_float(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	const char *r = s + i;
	size_t m = n - i;
	static const char *special[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
	for (size_t k = 0; k < 6; k++)
		if (m == 4 && !memcmp(r, special[k], 4))
			return 1;
	/* [0-9_]*\.?[0-9_]*([eE][-+]?[0-9]+)? with at least one digit */
	size_t k = 0;
	int digits = 0;
	while (k < m && ((r[k] >= '0' && r[k] <= '9') || r[k] == '_'))
		digits |= r[k] != '_', k++;
	if (k < m && r[k] == '.') {
		k++;
		while (k < m && ((r[k] >= '0' && r[k] <= '9') || r[k] == '_'))
			digits |= r[k] != '_', k++;
	}
	if (!digits)
		return 0;
	if (k < m && (r[k] == 'e' || r[k] == 'E')) {
		k++;
		if (k < m && (r[k] == '+' || r[k] == '-'))
			k++;
		size_t e0 = k;
		while (k < m && r[k] >= '0' && r[k] <= '9')
			k++;
		if (k == e0)
			return 0;
	}
	return k == m;
}

/* 1:20 style sexagesimal numbers, which yaml.v2 still quotes. */
static int looks_base60(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= n || s[i] < '1' || s[i] > '9')
		return 0;
	int colon = 0;
	for (; i < n; i++) {
		if (s[i] == ':')
			colon = 1;
		else if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.'))
			return 0;
	}
	return colon;
}

static int looks_timestamp(const char *s, size_t n)
{
	/* YYYY-M?M-D?D, optionally followed by a time part */
	if (n < 8)
		return 0;
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (s[4] != '-')
		return 0;
	size_t i = 5, d = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && d < 2)
		i++, d++;
	if (!d || i >= n || s[i] != '-')
		return 0;
	i++, d = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && d < 2)
		i++, d++;
	if (!d)
		return 0;
	return i == n || s[i] == 'T' || s[i] == 't' || s[i] == ' ' || s[i] == '\t';
}

static int resolves_non_string(const char *s, size_t n)
{
	static const char *words[] = {"", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N",
				      "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",
				      "On", "ON", "off", "Off", "OFF", "<<"};
	for (size_t i = 0; n <= 5 && i < sizeof words / sizeof words[0]; i++) /* none is longer than 5 */
		if (strlen(words[i]) == n && !memcmp(words[i], s, n))
			return 1;
	return looks_int(s, n) || looks_float(s, n) || looks_base60(s, n) || looks_timestamp(s, n);
}

/* ---- what the emitter allows (libyaml's scalar analysis) ---- */

static int is_blankz(const char *s, size_t n, size_t i)
{
	return i >= n || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r';
}

struct analysis {
	int plain_ok;  /* block plain allowed */
	int single_ok; /* single-quoted allowed */
	int block_ok;  /* literal block allowed */
	int multiline;
};

static void analyze(const char *s, size_t n, struct analysis *a, int v3)
{
	int tabs = 0;
	a->plain_ok = a->single_ok = a->block_ok = 1;
	a->multiline = 0;
	if (n == 0) {
		a->plain_ok = a->block_ok = 0;
		return;
	}
	if ((n >= 3 && (!memcmp(s, "---", 3) || !memcmp(s, "...", 3))) && is_blankz(s, n, 3))
		a->plain_ok = 0;
	int special = 0, leading_space = 0, leading_break = 0, trailing_space = 0, trailing_break = 0;
	int space_break = 0, break_space = 0, prev_space = 0, prev_break = 0, indicators = 0;
	int preceded_by_ws = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int followed_by_ws = is_blankz(s, n, i + 1);
		if (i == 0) {
			if (strchr("#,[]{}&*!|>'\"%@`", c))
				indicators = 1;
			if ((c == '?' || c == ':') && followed_by_ws)
				indicators = 1;
			if (c == '-' && followed_by_ws)
				indicators = 1;
		} else {
			if (c == ':' && followed_by_ws)
				indicators = 1;
			if (c == '#' && preceded_by_ws)
				indicators = 1;
		}
		if (c == '\t' && v3) /* yaml.v3: a tab rules out plain and single quotes, not a literal block */
			tabs = 1;
		else if ((c < 0x20 && c != '\n') || c == 0x7f) /* libyaml counts a tab as non-printable */
			special = 1;
		if (c == ' ') {
			if (i == 0)
				leading_space = 1;
			if (i == n - 1)
				trailing_space = 1;
			if (prev_break)
				break_space = 1;
			prev_space = 1;
			prev_break = 0;
		} else if (c == '\n') {
			a->multiline = 1;
			if (i == 0)
				leading_break = 1;
			if (i == n - 1)
				trailing_break = 1;
			if (prev_space)
				space_break = 1;
			prev_break = 1;
			prev_space = 0;
		} else {
			prev_space = prev_break = 0;
		}
		preceded_by_ws = c == ' ' || c == '\t' || c == '\n' || c == '\r';
	}
	if (leading_space || leading_break || trailing_space || trailing_break)
		a->plain_ok = 0;
	if (trailing_space)
		a->block_ok = 0;
	if (break_space)
		a->plain_ok = a->single_ok = 0;
	if (space_break || special)
		a->plain_ok = a->single_ok = a->block_ok = 0;
	if (a->multiline)
		a->plain_ok = 0;
	if (indicators)
		a->plain_ok = 0;
	if (tabs)
		a->plain_ok = a->single_ok = 0;
}

/* The three flow styles fold long lines at single spaces (never inside keys): a fold writes a
 * newline plus the scalar's indentation instead of the space. */
static void double_quoted(struct out *o, const char *s, size_t n, int indent, int fold)
{
	put(o, "\"", 1);
	int spaces_run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char buf[8];
		if (c == ' ') {
			if (fold && !spaces_run && column(o) > BEST_WIDTH && i != 0 && i != n - 1) {
				put(o, "\n", 1);
				spaces(o, indent);
				if (i + 1 < n && s[i + 1] == ' ')
					put(o, "\\", 1);
			} else {
				put(o, " ", 1);
			}
			spaces_run = 1;
			continue;
		}
		spaces_run = 0;
		switch (c) {
		case '"': puts_(o, "\\\""); break;
		case '\\': puts_(o, "\\\\"); break;
		case '\n': puts_(o, "\\n"); break;
		case '\t': puts_(o, "\\t"); break;
		case '\r': puts_(o, "\\r"); break;
		case 0: puts_(o, "\\0"); break;
		case 7: puts_(o, "\\a"); break;
		case 8: puts_(o, "\\b"); break;
		case 11: puts_(o, "\\v"); break;
		case 12: puts_(o, "\\f"); break;
		case 27: puts_(o, "\\e"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(buf, sizeof buf, "\\x%02X", c);
				puts_(o, buf);
			} else {
				put(o, (const char *)&c, 1);
			}
		}
	}
	put(o, "\"", 1);
}

static void single_quoted(struct out *o, const char *s, size_t n, int indent, int fold)
{
	put(o, "'", 1);
	int spaces_run = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ') {
			if (fold && !spaces_run && column(o) > BEST_WIDTH && i != 0 && i != n - 1 && s[i + 1] != ' ') {
				put(o, "\n", 1);
				spaces(o, indent);
			} else {
				put(o, " ", 1);
			}
			spaces_run = 1;
			continue;
		}
		spaces_run = 0;
		if (s[i] == '\'')
			put(o, "''", 2);
		else
			put(o, s + i, 1);
	}
	put(o, "'", 1);
}

static void plain(struct out *o, const char *s, size_t n, int indent, int fold)
{
	int spaces_run = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ') {
			if (fold && !spaces_run && column(o) > BEST_WIDTH && !(i + 1 < n && s[i + 1] == ' ')) {
				put(o, "\n", 1);
				spaces(o, indent);
			} else {
				put(o, " ", 1);
			}
			spaces_run = 1;
			continue;
		}
		spaces_run = 0;
		put(o, s + i, 1);
	}
}

/* A literal block; indent is the column of the block's lines. */
static void literal(struct out *o, const char *s, size_t n, int indent)
{
	put(o, "|", 1);
	if (s[0] == ' ' || s[0] == '\n') {
		char b[16];
		snprintf(b, sizeof b, "%d", 2);
		puts_(o, b);
	}
	size_t trailing = 0;
	while (trailing < n && s[n - 1 - trailing] == '\n')
		trailing++;
	if (trailing == 0)
		put(o, "-", 1);
	else if (trailing > 1 || trailing == n)
		put(o, "+", 1);
	put(o, "\n", 1);
	size_t end = trailing == 1 && n > 1 ? n - 1 : n; /* "\n" alone is one empty line */
	size_t i = 0;
	while (i < end) {
		size_t j = i;
		while (j < end && s[j] != '\n')
			j++;
		if (j > i) {
			spaces(o, indent);
			put(o, s + i, j - i);
		}
		put(o, "\n", 1);
		i = j + 1;
		if (j == end)
			break;
	}
	if (trailing > 1 && end == n) {
		/* the trailing newlines were emitted as empty lines above */
	}
}

/* Emits a string scalar; returns 1 when it ended with its own newline (a literal block). */
static int emit_string(struct out *o, const char *s, size_t n, int indent, int is_key)
{
	struct analysis a;
	analyze(s, n, &a, o->pretty);
	int fold = !is_key && !o->pretty;
	int lookalike = resolves_non_string(s, n);
	if (!lookalike && a.plain_ok) {
		plain(o, s, n, indent, fold);
		return 0;
	}
	if (a.multiline && !is_key && a.block_ok && !lookalike) {
		literal(o, s, n, indent);
		return 1;
	}
	if (!lookalike && a.single_ok && !a.multiline) {
		single_quoted(o, s, n, indent, fold);
		return 0;
	}
	double_quoted(o, s, n, indent, fold);
	return 0;
}

/* Go strconv.FormatFloat(f, 'g', -1, 64). */
static void format_float(struct out *o, double f)
{
	char buf[64], d[32];
	if (isnan(f)) {
		puts_(o, ".nan");
		return;
	}
	if (isinf(f)) {
		puts_(o, f > 0 ? "+.inf" : "-.inf");
		return;
	}
	if (!o->pretty && f == floor(f) && fabs(f) < 9.2233720368547758e18) {
		/* JSON's "-0" reads back as the integer 0 */
		snprintf(buf, sizeof buf, "%.0f", f == 0 ? 0.0 : f);
		puts_(o, buf);
		return;
	}
	int p;
	for (p = 1; p <= 17; p++) {
		snprintf(buf, sizeof buf, "%.*e", p - 1, f);
		if (strtod(buf, NULL) == f)
			break;
	}
	const char *s = buf;
	int neg = *s == '-';
	if (neg)
		s++;
	size_t k = 0;
	while (*s && *s != 'e') {
		if (*s != '.')
			d[k++] = *s;
		s++;
	}
	while (k > 1 && d[k - 1] == '0')
		k--;
	d[k] = 0;
	int exp = atoi(s + 1);
	struct out t = {0};
	if (neg)
		put(&t, "-", 1);
	if (exp < -4 || exp >= 6) {
		put(&t, d, 1);
		if (k > 1) {
			put(&t, ".", 1);
			put(&t, d + 1, k - 1);
		}
		snprintf(buf, sizeof buf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		puts_(&t, buf);
	} else if (exp < 0) {
		puts_(&t, "0.");
		for (int i = -1; i > exp; i--)
			put(&t, "0", 1);
		put(&t, d, k);
	} else {
		for (int i = 0; i <= exp; i++)
			put(&t, (size_t)i < k ? d + i : "0", 1);
		if ((int)k > exp + 1) {
			put(&t, ".", 1);
			put(&t, d + exp + 1, k - (size_t)exp - 1);
		}
	}
	put(o, t.s, t.len);
	free(t.s);
}

static int is_empty_container(json_t *v)
{
	return (json_is_object(v) && json_object_size(v) == 0) || (json_is_array(v) && json_array_size(v) == 0);
}

/* Scalars and empty containers print inline; returns 1 when the text ended with a newline. */
static int emit_inline(struct out *o, json_t *v, int indent)
{
	if (!v || json_is_null(v)) {
		puts_(o, "null");
		return 0;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		return emit_string(o, json_string_value(v), json_string_length(v), indent, 0);
	case JSON_INTEGER: {
		char b[32];
		snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
		puts_(o, b);
		return 0;
	}
	case JSON_REAL:
		format_float(o, json_real_value(v));
		return 0;
	case JSON_TRUE:
		puts_(o, "true");
		return 0;
	case JSON_FALSE:
		puts_(o, "false");
		return 0;
	case JSON_OBJECT:
		puts_(o, "{}");
		return 0;
	case JSON_ARRAY:
		puts_(o, "[]");
		return 0;
	default:
		return 0;
	}
}

/* Decodes one UTF-8 rune (invalid bytes count as themselves). */
static long next_rune(const unsigned char **p)
{
	const unsigned char *s = *p;
	long r = s[0];
	int len = 1;
	if (r >= 0xF0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80)
		r = ((r & 7) << 18) | ((s[1] & 0x3Fl) << 12) | ((s[2] & 0x3Fl) << 6) | (s[3] & 0x3F), len = 4;
	else if (r >= 0xE0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80)
		r = ((r & 0xF) << 12) | ((s[1] & 0x3Fl) << 6) | (s[2] & 0x3F), len = 3;
	else if (r >= 0xC0 && (s[1] & 0xC0) == 0x80)
		r = ((r & 0x1F) << 6) | (s[1] & 0x3F), len = 2;
	*p = s + len;
	return r;
}

/* unicode.IsLetter, approximated: ASCII letters and every non-ASCII rune. */
static int is_letter(long r) { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80; }
static int is_digit(long r) { return r >= '0' && r <= '9'; }

/* yaml.v2's key order (keyList.Less): letters compare as runes, a non-letter sorts before a letter,
 * and runs of digits compare as numbers, so "a2" < "a10". */
static int yaml_key_less(const char *a, const char *b)
{
	long ar[512], br[512];
	size_t an_ = 0, bn_ = 0;
	for (const unsigned char *p = (const unsigned char *)a; *p && an_ < 512;)
		ar[an_++] = next_rune(&p);
	for (const unsigned char *p = (const unsigned char *)b; *p && bn_ < 512;)
		br[bn_++] = next_rune(&p);
	for (size_t i = 0; i < an_ && i < bn_; i++) {
		if (ar[i] == br[i])
			continue;
		int al = is_letter(ar[i]), bl = is_letter(br[i]);
		if (al && bl)
			return ar[i] < br[i];
		if (al || bl)
			return bl;
		long long an = 0, bn = 0;
		if (ar[i] == '0' || br[i] == '0')
			for (size_t j = i; j-- > 0 && is_digit(ar[j]);)
				if (ar[j] != '0') {
					an = bn = 1;
					break;
				}
		size_t ai = i, bi = i;
		for (; ai < an_ && is_digit(ar[ai]); ai++)
			an = an * 10 + (ar[ai] - '0');
		for (; bi < bn_ && is_digit(br[bi]); bi++)
			bn = bn * 10 + (br[bi] - '0');
		if (an != bn)
			return an < bn;
		if (ai != bi)
			return ai < bi;
		return ar[i] < br[i];
	}
	return an_ < bn_;
}

static int cmp_str(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	if (yaml_key_less(x, y))
		return -1;
	return yaml_key_less(y, x) ? 1 : strcmp(x, y);
}

static void emit_node(struct out *o, json_t *v, int indent, int first_inline);

static void emit_mapping(struct out *o, json_t *v, int indent, int first_inline)
{
	size_t n = json_object_size(v), i = 0;
	const char **keys = malloc(n * sizeof *keys);
	if (!keys)
		abort();
	const char *k;
	json_t *val;
	json_object_foreach(v, k, val) keys[i++] = k;
	qsort(keys, n, sizeof *keys, cmp_str);
	for (i = 0; i < n; i++) {
		if (i || !first_inline)
			spaces(o, indent);
		emit_string(o, keys[i], strlen(keys[i]), indent, 1);
		put(o, ":", 1);
		json_t *c = json_object_get(v, keys[i]);
		if ((json_is_object(c) || json_is_array(c)) && !is_empty_container(c)) {
			put(o, "\n", 1);
			emit_node(o, c, json_is_object(c) || o->pretty ? indent + 2 : indent, 0);
		} else {
			put(o, " ", 1);
			if (!emit_inline(o, c, indent + 2))
				put(o, "\n", 1);
		}
	}
	free(keys);
}

static void emit_sequence(struct out *o, json_t *v, int indent, int first_inline)
{
	for (size_t i = 0; i < json_array_size(v); i++) {
		if (i || !first_inline)
			spaces(o, indent);
		put(o, "- ", 2);
		json_t *c = json_array_get(v, i);
		if ((json_is_object(c) || json_is_array(c)) && !is_empty_container(c)) {
			emit_node(o, c, indent + 2, 1);
		} else {
			if (!emit_inline(o, c, indent + 2))
				put(o, "\n", 1);
		}
	}
}

static void emit_node(struct out *o, json_t *v, int indent, int first_inline)
{
	if (json_is_object(v) && json_object_size(v))
		emit_mapping(o, v, indent, first_inline);
	else if (json_is_array(v) && json_array_size(v))
		emit_sequence(o, v, indent, first_inline);
	else if (!emit_inline(o, v, indent + 2))
		put(o, "\n", 1);
}

static char *emit_doc(json_t *v, size_t *len, int pretty)
{
	struct out o = {.pretty = pretty};
	put(&o, "", 0);
	emit_node(&o, v, 0, 0);
	if (len)
		*len = o.len;
	return o.s;
}

char *yaml_emit(json_t *v, size_t *len) { return emit_doc(v, len, 0); }

char *yaml_emit_pretty(json_t *v, size_t *len) { return emit_doc(v, len, 1); }
