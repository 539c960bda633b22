/* helm_lookup.h — the template side of Helm's `lookup`: the engine asks a per-thread reader, or answers an empty map without one. */
#ifndef SM_CHART_HELM_LOOKUP_H
#define SM_CHART_HELM_LOOKUP_H

#include <jansson.h>
#include <stddef.h>

#include "errbuf.h"

struct tmpl_call;

/* Reads one object (name non-empty) or a list (name ""): 0 and a new map in *out (an empty map when
 * nothing was found), or -1 with err filled. */
typedef int (*tmpl_lookup_reader)(void *ctx, const char *api_version, const char *kind, const char *ns,
				  const char *name, json_t **out, struct sm_error *err);

/* Templates executed on the calling thread call reader (NULL: lookups answer empty, as `helm template`). */
void tmpl_lookup_bind(tmpl_lookup_reader reader, void *ctx);

/* lookup APIVERSION KIND NAMESPACE NAME (registered in the sprig table). */
int tfx_lookup(struct tmpl_call *c, json_t **a, size_t n);

#endif
