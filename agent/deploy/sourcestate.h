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

/* Edits the state in place (a service set or dropped); 0, or -1 with err filled. */
typedef int (*sourcestate_edit_fn)(json_t *state, void *arg, struct sm_error *err);

/* Read, edit, write back only if nobody wrote in between: the ConfigMap is replaced with a PUT carrying
 * the resourceVersion it was read at (created when missing), and on a conflict (another apply --source,
 * a dashboard's toggle) it is read and edited again, a few times at most, so no writer's choice is lost.
 * Nothing is written when the edit changes nothing. *state_out: the state as saved (or as read, when
 * unchanged; a new reference); *changed: 1 when it was written. Returns 0, or -1 with err filled. */
int sourcestate_update(struct kube *k, const char *ns, sourcestate_edit_fn edit, void *arg, json_t **state_out,
		       int *changed, struct sm_error *err);

#endif
