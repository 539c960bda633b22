/* numeric.c — sprig's numeric.go: cast.ToInt64/ToFloat64, add/sub/mul/div/mod, max/min, floor/ceil/round, the float math (addf ...), until/untilStep, int/float64/atoi, toDecimal. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sprig.h"
#include "tmpl_node.h"

/* cast.ToFloat64 */
double tfx_to_float64(json_t *j)
{
	if (json_is_integer(j))
		return (double)json_integer_value(j);
	if (json_is_real(j))
		return json_real_value(j);
	if (json_is_true(j))
		return 1;
	if (json_is_string(j)) {
		char *end;
		double d = strtod(json_string_value(j), &end);
		return *end ? 0 : d;
	}
	return 0;
}

/* shopspring/decimal, as sprig's execDecimalOp uses it: each operand at its shortest decimal spelling, the
 * result exact (to 16 places for a division) then read back as a float64. */
static double decimal_round(long double v, int places)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%.*Lg", places, v);
	return strtod(buf, NULL);
}

static int decimal_op(struct tmpl_call *c, double first, json_t **rest, size_t n, char op)
{
	long double acc = first;
	for (size_t i = 0; i < n; i++) {
		long double d = tfx_to_float64(rest[i]);
		switch (op) {
		case '+': acc += d; break;
		case '-': acc -= d; break;
		case '*': acc *= d; break;
		default:
			if (d == 0)
				return tf_fail(c, "decimal division by 0");
			acc /= d;
		}
	}
	return tf_ret(c, json_real(decimal_round(acc, 15)));
}

int tfx_addf(struct tmpl_call *c, json_t **a, size_t n) { return decimal_op(c, 0, a, n, '+'); }
int tfx_add1f(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *one = json_integer(1);
	int rc = decimal_op(c, tfx_to_float64(a[0]), &one, 1, '+');
	json_decref(one);
	return rc;
}
int tfx_subf(struct tmpl_call *c, json_t **a, size_t n) { return decimal_op(c, tfx_to_float64(a[0]), a + 1, n - 1, '-'); }
int tfx_mulf(struct tmpl_call *c, json_t **a, size_t n) { return decimal_op(c, tfx_to_float64(a[0]), a + 1, n - 1, '*'); }
int tfx_divf(struct tmpl_call *c, json_t **a, size_t n) { return decimal_op(c, tfx_to_float64(a[0]), a + 1, n - 1, '/'); }

int tfx_maxf(struct tmpl_call *c, json_t **a, size_t n)
{
	double m = tfx_to_float64(a[0]);
	for (size_t i = 1; i < n; i++)
		m = fmax(m, tfx_to_float64(a[i]));
	return tf_ret(c, json_real(m));
}

int tfx_minf(struct tmpl_call *c, json_t **a, size_t n)
{
	double m = tfx_to_float64(a[0]);
	for (size_t i = 1; i < n; i++)
		m = fmin(m, tfx_to_float64(a[i]));
	return tf_ret(c, json_real(m));
}

/* round VALUE PLACES [ROUND_ON=.5] */
int tfx_round(struct tmpl_call *c, json_t **a, size_t n)
{
	double on = n > 2 ? tfx_to_float64(a[2]) : .5;
	double val = tfx_to_float64(a[0]), pow10 = pow(10, (double)json_integer_value(a[1]));
	double digit = pow10 * val, ip;
	double frac = modf(digit, &ip);
	return tf_ret(c, json_real((frac >= on ? ceil(digit) : floor(digit)) / pow10));
}

/* toDecimal: the value's text read as octal (0 when it is not). */
int tfx_to_decimal(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	go_print_value(&b, a[0]);
	char *s = sb_take(&b);
	char *end;
	long long v = strtoll(s, &end, 8);
	int ok = *s && !*end && s[0] != ' ';
	free(s);
	return tf_ret(c, json_integer(ok ? v : 0));
}

static int parse_go_int(const char *s, long long *out)
{
	/* strconv.ParseInt(s, 0, 64) */
	const char *p = s;
	int neg = 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	int base = 10;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	if (!*p)
		return -1;
	unsigned long long v = 0;
	for (; *p; p++) {
		if (*p == '_')
			continue;
		int d = isdigit((unsigned char)*p) ? *p - '0' : isalpha((unsigned char)*p) ? tolower(*p) - 'a' + 10 : 99;
		if (d >= base)
			return -1;
		if (v > (~0ULL) / (unsigned)base)
			return -1;
		v = v * (unsigned)base + (unsigned)d;
	}
	if (v > (neg ? (1ULL << 63) : (1ULL << 63) - 1))
		return -1;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

static long long to_int64(json_t *j)
{
	if (!j)
		return 0;
	switch (json_typeof(j)) {
	case JSON_INTEGER: return (long long)json_integer_value(j);
	case JSON_REAL: {
		double f = json_real_value(j);
		if (isnan(f) || f >= 9.2233720368547758e18 || f < -9.2233720368547758e18)
			return (long long)0x8000000000000000ULL;
		return (long long)f;
	}
	case JSON_TRUE: return 1;
	case JSON_STRING: {
		/* cast trims a zero decimal part ("12.0") before strconv.ParseInt(s, 0, 0) */
		char *s = strdup(S(j));
		if (!s)
			abort();
		char *dot = strchr(s, '.');
		if (dot) {
			char *q = dot + 1;
			while (*q == '0')
				q++;
			if (!*q && dot > s)
				*dot = 0;
		}
		long long v = 0;
		if (parse_go_int(s, &v))
			v = 0;
		free(s);
		return v;
	}
	default: return 0;
	}
}

static double to_float64(json_t *j)
{
	if (!j)
		return 0;
	switch (json_typeof(j)) {
	case JSON_INTEGER: return (double)json_integer_value(j);
	case JSON_REAL: return json_real_value(j);
	case JSON_TRUE: return 1;
	case JSON_STRING: {
		char *end;
		const char *s = S(j);
		if (!*s || isspace((unsigned char)*s))
			return 0;
		double f = strtod(s, &end);
		return *end ? 0 : f;
	}
	default: return 0;
	}
}

int tfx_add(struct tmpl_call *c, json_t **a, size_t n)
{
	unsigned long long s = 0;
	for (size_t i = 0; i < n; i++)
		s += (unsigned long long)to_int64(a[i]);
	return tf_ret_int(c, (long long)s);
}

int tfx_sub(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_int(c, (long long)((unsigned long long)to_int64(a[0]) - (unsigned long long)to_int64(a[1])));
}

int tfx_mul(struct tmpl_call *c, json_t **a, size_t n)
{
	unsigned long long p = (unsigned long long)to_int64(a[0]);
	for (size_t i = 1; i < n; i++)
		p *= (unsigned long long)to_int64(a[i]);
	return tf_ret_int(c, (long long)p);
}

int tfx_div(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long x = to_int64(a[0]), y = to_int64(a[1]);
	if (y == 0)
		return tf_fail(c, "runtime error: integer divide by zero");
	if (y == -1)
		return tf_ret_int(c, (long long)(0 - (unsigned long long)x));
	return tf_ret_int(c, x / y);
}

int tfx_mod(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long x = to_int64(a[0]), y = to_int64(a[1]);
	if (y == 0)
		return tf_fail(c, "runtime error: integer divide by zero");
	if (y == -1)
		return tf_ret_int(c, 0);
	return tf_ret_int(c, x % y);
}

int tfx_max(struct tmpl_call *c, json_t **a, size_t n)
{
	long long m = to_int64(a[0]);
	for (size_t i = 1; i < n; i++)
		if (to_int64(a[i]) > m)
			m = to_int64(a[i]);
	return tf_ret_int(c, m);
}

int tfx_min(struct tmpl_call *c, json_t **a, size_t n)
{
	long long m = to_int64(a[0]);
	for (size_t i = 1; i < n; i++)
		if (to_int64(a[i]) < m)
			m = to_int64(a[i]);
	return tf_ret_int(c, m);
}

int tfx_int(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_int(c, to_int64(a[0]));
}

int tfx_float64(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret(c, json_real(to_float64(a[0])));
}

int tfx_atoi(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *s = S(a[0]);
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return tf_ret_int(c, 0);
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q))
			return tf_ret_int(c, 0);
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	return tf_ret_int(c, errno ? 0 : v);
}

/* Lists longer than this are refused (until, untilStep), so hostile templates cannot exhaust memory. */
#define MAX_LIST_RESULT 10000000

int tfx_add1(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_int(c, (long long)((unsigned long long)to_int64(a[0]) + 1));
}

static int until_step(struct tmpl_call *c, long long start, long long stop, long long step)
{
	json_t *v = json_array();
	long long count = 0;
	if (stop < start) {
		if (step < 0)
			for (long long i = start; i > stop; i += step) {
				if (++count > MAX_LIST_RESULT) {
					json_decref(v);
					return tf_fail(c, "list too long");
				}
				json_array_append_new(v, json_integer(i));
			}
		return tf_ret(c, v);
	}
	if (step > 0)
		for (long long i = start; i < stop; i += step) {
			if (++count > MAX_LIST_RESULT) {
				json_decref(v);
				return tf_fail(c, "list too long");
			}
			json_array_append_new(v, json_integer(i));
		}
	return tf_ret(c, v);
}

int tfx_until(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long k = (long long)json_integer_value(a[0]);
	return until_step(c, 0, k, k < 0 ? -1 : 1);
}

int tfx_until_step(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return until_step(c, (long long)json_integer_value(a[0]), (long long)json_integer_value(a[1]),
			  (long long)json_integer_value(a[2]));
}

int tfx_ceil(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return tf_ret(c, json_real(ceil(to_float64(a[0])))); }

int tfx_floor(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return tf_ret(c, json_real(floor(to_float64(a[0])))); }
