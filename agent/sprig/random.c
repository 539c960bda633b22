/* random.c — sprig's random functions (randAlphaNum, randAlpha, randNumeric, randAscii, randInt, shuffle, uuidv4) from OpenSSL's CSPRNG. */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "sprig.h"
#include "tmpl_node.h"

/* A uniform index below n (rejection sampling). */
static unsigned uniform(unsigned n)
{
	unsigned limit = 0xFFFFFFFFu - 0xFFFFFFFFu % n, v;
	do {
		RAND_bytes((unsigned char *)&v, sizeof v);
	} while (v >= limit);
	return v % n;
}

static int rand_from(struct tmpl_call *c, json_t **a, const char *set)
{
	long long k = (long long)json_integer_value(a[0]);
	if (k < 0)
		return tf_fail(c, "goutils: count is negative");
	char *s = malloc((size_t)k + 1);
	if (!s)
		abort();
	size_t sl = strlen(set);
	for (long long i = 0; i < k; i++)
		s[i] = set[uniform((unsigned)sl)];
	int rc = tf_ret_str(c, s, (size_t)k);
	free(s);
	return rc;
}

#define LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"
int tfx_rand_alpha_num(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return rand_from(c, a, LETTERS DIGITS); }
int tfx_rand_alpha(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return rand_from(c, a, LETTERS); }
int tfx_rand_numeric(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return rand_from(c, a, DIGITS); }
int tfx_rand_ascii(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char set[96];
	for (int i = 0; i < 95; i++)
		set[i] = (char)(32 + i);
	set[95] = 0;
	return rand_from(c, a, set);
}

/* randInt MIN MAX: Go's rand.Intn(max-min)+min (Intn panics unless max > min). */
int tfx_rand_int(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long lo = (long long)json_integer_value(a[0]), hi = (long long)json_integer_value(a[1]);
	if (hi <= lo)
		return tf_fail(c, "invalid argument to Intn");
	unsigned long long span = (unsigned long long)(hi - lo), v;
	unsigned long long limit = ~0ULL - ~0ULL % span;
	do {
		RAND_bytes((unsigned char *)&v, sizeof v);
	} while (v >= limit);
	return tf_ret_int(c, lo + (long long)(v % span));
}

/* shuffle: the string's runes in a random order. */
int tfx_shuffle(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *s = json_string_value(a[0]);
	size_t len = json_string_length(a[0]), nr = 0;
	size_t *start = malloc((len + 1) * sizeof *start), *w = malloc((len + 1) * sizeof *w);
	if (!start || !w)
		abort();
	for (size_t i = 0; i < len; nr++) {
		start[nr] = i;
		w[nr] = tmpl_rune_width(s + i, len - i);
		i += w[nr];
	}
	for (size_t i = nr; i > 1; i--) {
		size_t j = uniform((unsigned)i);
		size_t t = start[i - 1];
		start[i - 1] = start[j];
		start[j] = t;
		t = w[i - 1];
		w[i - 1] = w[j];
		w[j] = t;
	}
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	for (size_t i = 0; i < nr; i++)
		sb_add(&b, s + start[i], w[i]);
	free(start);
	free(w);
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}

int tfx_uuidv4(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a, (void)n;
	unsigned char u[16];
	RAND_bytes(u, sizeof u);
	u[6] = (u[6] & 0x0F) | 0x40;
	u[8] = (u[8] & 0x3F) | 0x80;
	char s[37];
	static const char H[] = "0123456789abcdef";
	size_t k = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			s[k++] = '-';
		s[k++] = H[u[i] >> 4];
		s[k++] = H[u[i] & 15];
	}
	return tf_ret_str(c, s, 36);
}
