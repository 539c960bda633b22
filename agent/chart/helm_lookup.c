/* helm_lookup.c — Helm's `lookup` as the engine sees it: a per-thread reader bound by the deploy layer (lookup.c), else an empty map. */
#include "helm_lookup.h"
#include "tmpl.h"

static __thread tmpl_lookup_reader reader;
static __thread void *reader_ctx;

void tmpl_lookup_bind(tmpl_lookup_reader r, void *ctx)
{
	reader = r;
	reader_ctx = ctx;
}

int tfx_lookup(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (!reader)
		return tf_ret(c, json_object()); /* no cluster at template time: Helm's template mode answers empty */
	json_t *out = NULL;
	struct sm_error err;
	if (reader(reader_ctx, json_string_value(a[0]), json_string_value(a[1]), json_string_value(a[2]),
		   json_string_value(a[3]), &out, &err))
		return tf_fail(c, "%s", err.msg);
	return tf_ret(c, out);
}
