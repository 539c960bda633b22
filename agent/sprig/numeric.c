/* numeric.c — sprig's float math (addf, subf, mulf, divf, add1f, maxf, minf, round) and toDecimal. */
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

static int decimal_op(struct fcall *c, double first, json_t **rest, size_t n, char op)
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

int tfx_addf(struct fcall *c, json_t **a, size_t n) { return decimal_op(c, 0, a, n, '+'); }
int tfx_add1f(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	json_t *one = json_integer(1);
	int rc = decimal_op(c, tfx_to_float64(a[0]), &one, 1, '+');
	json_decref(one);
	return rc;
}
int tfx_subf(struct fcall *c, json_t **a, size_t n) { return decimal_op(c, tfx_to_float64(a[0]), a + 1, n - 1, '-'); }
int tfx_mulf(struct fcall *c, json_t **a, size_t n) { return decimal_op(c, tfx_to_float64(a[0]), a + 1, n - 1, '*'); }
int tfx_divf(struct fcall *c, json_t **a, size_t n) { return decimal_op(c, tfx_to_float64(a[0]), a + 1, n - 1, '/'); }

int tfx_maxf(struct fcall *c, json_t **a, size_t n)
{
	double m = tfx_to_float64(a[0]);
	for (size_t i = 1; i < n; i++)
		m = fmax(m, tfx_to_float64(a[i]));
	return tf_ret(c, json_real(m));
}

int tfx_minf(struct fcall *c, json_t **a, size_t n)
{
	double m = tfx_to_float64(a[0]);
	for (size_t i = 1; i < n; i++)
		m = fmin(m, tfx_to_float64(a[i]));
	return tf_ret(c, json_real(m));
}

/* round VALUE PLACES [ROUND_ON=.5] */
int tfx_round(struct fcall *c, json_t **a, size_t n)
{
	double on = n > 2 ? tfx_to_float64(a[2]) : .5;
	double val = tfx_to_float64(a[0]), pow10 = pow(10, (double)json_integer_value(a[1]));
	double digit = pow10 * val, ip;
	double frac = modf(digit, &ip);
	return tf_ret(c, json_real((frac >= on ? ceil(digit) : floor(digit)) / pow10));
}

/* toDecimal: the value's text read as octal (0 when it is not). */
int tfx_to_decimal(struct fcall *c, json_t **a, size_t n)
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
