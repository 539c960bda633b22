/* sourcestate.h — which services run in source mode, persisted in the namespace's ConfigMap appdeploy-source-mode. */
#ifndef SM_SOURCESTATE_H
#define SM_SOURCESTATE_H

#include <jansson.h>
#include <stddef.h>

#include "kube.h"

/* The ConfigMap: data maps a service name to "true" (source mode from a hostPath) or "sync" (synced
 * source mode, #18); in memory the state is NAME -> true | "sync". It carries the managed-by label and
 * SOURCESTATE_LABEL but never the set label, so prune (which selects on both) leaves it alone. */
#define SOURCESTATE_NAME "appdeploy-source-mode"
#define SOURCESTATE_LABEL "appdeploy.sourcemode.dev/state"
#define SOURCESTATE_LABEL_VALUE "source-mode"

/* Reads the state of namespace ns into *out: a new object {service: true}, empty when the
 * ConfigMap (or the namespace) does not exist. Returns 0, or -1 with err filled. */
int sourcestate_load(struct kube *k, const char *ns, json_t **out, struct sm_error *err);

/* The state of a ConfigMap's data (borrowed, may be NULL): a new object {service: true | "sync"};
 * other values are left out. */
json_t *sourcestate_from_data(json_t *data);

/* service's mode in state: "hostpath", "sync", or NULL (the CI image). */
const char *sourcestate_mode(json_t *state, const char *service);

/* Writes state (an object; services whose value is true or "sync" are kept) with server-side apply, so
 * services missing from it are dropped from the ConfigMap. Creates the namespace when missing.
 * Returns 0, or -1 with err filled. */
int sourcestate_save(struct kube *k, const char *ns, json_t *state, struct sm_error *err);

#endif
