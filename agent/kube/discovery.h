/* discovery.h — internal seam between kube.c (the client) and discovery.c (what the client knows of the server's kinds). */
#ifndef SM_DISCOVERY_H
#define SM_DISCOVERY_H

#include "kube.h"

struct kube_discovery;

/* kube.c: where a client keeps its discovery state (NULL until the first kube_discover). */
struct kube_discovery **kube_discovery_slot(struct kube *k);
/* kube.c: the client's own copy of its settings (server URL for the cache key). */
const struct kube_config *kube_config_of(struct kube *k);
/* discovery.c: frees the state and every resource it handed out. */
void kube_discovery_free(struct kube_discovery *d);
/* discovery.c: parses one document as discovery would (an APIGroupDiscoveryList, an APIResourceList or a
 * cache file) and returns how many resources it yields. For fuzzing and tests. */
size_t kube_discovery_parse(const char *text, size_t len);

#endif
