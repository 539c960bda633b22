/* lookup.h — Helm's `lookup` against the live cluster in apply, diff and the dashboard's syncs (empty in template and render). */
#ifndef SM_LOOKUP_H
#define SM_LOOKUP_H

#include "kube.h"

/*
 * Binds the templates rendered on the calling thread to a cluster: with k (borrowed) lookups use that
 * client; with only cfg (borrowed, must outlive the binding) a client is made at the first lookup and
 * freed by the next lookup_use. lookup_use(NULL, NULL) unbinds: lookups answer an empty map, as
 * `helm template` does. Bindings are per thread (the dashboard renders on its workers).
 *
 * What a lookup answers, as helm install's: lookup APIVERSION KIND NAMESPACE NAME gives the object (a
 * map), or an empty map when it does not exist (404); NAME "" lists (the list as a map with `items`,
 * each item with its apiVersion and kind); NAMESPACE "" for a cluster-scoped kind, or every namespace
 * (a namespace given for a cluster-scoped kind is ignored). A kind the group version does not serve
 * answers empty, as in Helm; a group version the server does not serve, a refusal (403), an
 * unreachable server or any other failure is an execution error naming the object.
 */
void lookup_use(struct kube *k, const struct kube_config *cfg);

#endif
