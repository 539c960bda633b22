/* sync.h — makes a namespace match the rendered objects: ordered server-side apply, owned-only prune, diff, rollout wait. */
#ifndef SM_SYNC_H
#define SM_SYNC_H

#include <jansson.h>
#include <stdio.h>

#include "kube.h"

/* Annotation holding the SHA-256 of the object as rendered (before this annotation): a re-apply
 * skips objects whose live copy carries the same digest and still holds every value we set. */
#define SYNC_ANNOTATION_APPLIED "appdeploy.sourcemode.dev/applied"

struct sync_opts {
	const char *ns;                  /* target namespace (required) */
	const char *set_name;            /* value of the set label: prune only touches this set */
	int dry_run;                     /* server dry run: nothing changes */
	int prune;                       /* delete owned objects no longer rendered */
	int wait;                        /* follow Deployment rollouts after applying */
	double wait_timeout;             /* seconds for --wait */
	const char *const *pull_secrets; /* -i: merged into the default ServiceAccount's imagePullSecrets */
	size_t n_pull_secrets;
	int force;                       /* send every object to the server, even unchanged ones */
	FILE *out;                       /* progress lines ("deployment.apps/web created") */
};

/*
 * Applies rendered (render_dir's array of {file, line, object}) to o->ns: resolves every kind
 * through discovery first (an unknown kind fails before anything is written), creates the namespace
 * when missing, applies in order (Namespaces, CRDs, ServiceAccounts, RBAC, ConfigMaps/Secrets, the
 * rest) with fieldManager=appdeploy and force, recreates objects the server rejects for an immutable
 * field change, merges -i secrets into the default ServiceAccount, then — only when every apply
 * succeeded — prunes owned objects of this set that were not rendered, then waits for rollouts.
 * Returns 0, or -1 with err filled (a summary; per-object errors were printed on stderr).
 */
int sync_apply(struct kube *k, json_t *rendered, const struct sync_opts *o, char *err, size_t errlen);

/*
 * Prints to out what sync_apply would change: a unified diff of the live object against the
 * server's dry-run result for each rendered object (fields set by the server's bookkeeping left out),
 * the objects that would be pruned, and the unmanaged objects found in the namespace.
 * *changes receives the number of objects that differ. Returns 0 or -1 with err filled.
 */
int sync_diff(struct kube *k, json_t *rendered, const struct sync_opts *o, FILE *out, int *changes, char *err,
	      size_t errlen);

/* Writes a unified diff (3 lines of context) of text a vs b under the given labels; nothing when
 * equal. Returns 1 when they differ. */
int sync_udiff(FILE *out, const char *label_a, const char *a, const char *label_b, const char *b);

#endif
