/* reflect.c — sprig's reflect.go: kindOf, kindIs, typeOf, typeIs, deepEqual. */
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

const char *sprig_kind_of(json_t *j)
{
	if (!j || json_is_null(j))
		return "invalid";
	switch (json_typeof(j)) {
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int";
	case JSON_REAL: return "float64";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	case JSON_ARRAY: return "slice";
	case JSON_OBJECT: return "map";
	default: return "invalid";
	}
}

static const char *type_of(json_t *j)
{
	struct tval v = {j, 0};
	return !j || json_is_null(j) ? "<nil>" : tv_type_name(&v);
}

/* Objects with methods (time.Time, *semver.Version ...) have their Go kind and type. */
static const char *bound_kind(struct tmpl_call *c, json_t *j)
{
	const struct tbind *b = tmpl_find_bind(tmpl_exec_set(c->st), j);
	return b && b->type->kind ? b->type->kind : sprig_kind_of(j);
}

static const char *bound_type(struct tmpl_call *c, json_t *j)
{
	const struct tbind *b = tmpl_find_bind(tmpl_exec_set(c->st), j);
	return b && b->type->kind ? b->type->name : type_of(j);
}

int tfx_kind_of(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return tf_ret(c, json_string(bound_kind(c, a[0]))); }

int tfx_kind_is(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return tf_ret_bool(c, !strcmp(S(a[0]), bound_kind(c, a[1]))); }

int tfx_type_of(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return tf_ret(c, json_string(bound_type(c, a[0]))); }

int tfx_type_is(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return tf_ret_bool(c, !strcmp(S(a[0]), bound_type(c, a[1]))); }

int tfx_deep_equal(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int nil0 = !a[0] || json_is_null(a[0]), nil1 = !a[1] || json_is_null(a[1]);
	if (nil0 || nil1)
		return tf_ret_bool(c, nil0 && nil1);
	return tf_ret_bool(c, json_equal(a[0], a[1]));
}
