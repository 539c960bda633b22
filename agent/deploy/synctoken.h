/* synctoken.h — the namespace's sync-token Secret of synced source mode (#18): apply makes it part of the set when a rendered pod mounts it. */
#ifndef SM_SYNCTOKEN_H
#define SM_SYNCTOKEN_H

#include <jansson.h>
#include <stddef.h>

#include "kube.h"

/* The Secret (data.token) that reloader's sync endpoint checks and `appdeploy dev` reads. */
#define SYNCTOKEN_SECRET "appdeploy-sync-token"
/* The template path its source annotation names (it comes from no template). */
#define SYNCTOKEN_ORIGIN "(appdeploy: synced source mode's token)"

/* True when an object of rendered (render_dir's array of {file, line, object}) refers to the Secret
 * (a secret volume, a projected secret, secretKeyRef or secretRef) without rendering it itself. */
int synctoken_needed(json_t *rendered);

/*
 * The Secret as one more render entry {file, line, object} for set in ns, into *out (a new
 * reference), when synctoken_needed: labelled as the set's objects are, so it is applied, listed in the
 * set's inventory and pruned with the set. Its token: the live Secret's when the set owns it already
 * (a re-apply never rotates it), else 24 random bytes as hex. *out stays NULL when nothing needs it,
 * and when the namespace holds one that is not this set's (made by hand, by another set or by an
 * older `appdeploy dev`): that one is used as it is and left alone. Only reads the cluster.
 * Returns 0, or -1 with err filled.
 */
int synctoken_entry(struct kube *k, json_t *rendered, const char *ns, const char *set, json_t **out, struct sm_error *err);

#endif
