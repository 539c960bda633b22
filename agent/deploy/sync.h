/* sync.h — makes a namespace match the rendered objects: ordered server-side apply, owned-only prune, diff, rollout wait. */
#ifndef SM_SYNC_H
#define SM_SYNC_H

#include <jansson.h>
#include <stdio.h>

#include "diag.h"
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
	const struct diag *diag;         /* per-object errors (borrowed; NULL: log.c) */
	/* #10 ownership (see ownership.h) */
	const char *dir;                 /* the folder applied from: gives the set's origin (required) */
	int adopt;                       /* take over existing objects that are not this set's (said per object) */
	int take_over;                   /* take over a set whose inventory says it was applied from elsewhere */
	int no_force_conflicts;          /* a field owned by another field manager is an error, not taken */
	int allow_empty;                 /* apply an empty render (pruning everything the set owns) */
};

/*
 * Applies rendered (render_dir's array of {file, line, object}) to o->ns. Before anything is
 * written: refuses an empty render (unless allow_empty), resolves every kind through discovery
 * (only kinds a rendered CRD defines may wait for it), refuses a Terminating namespace, reads the
 * set's inventory (refusing a set applied from another origin unless take_over) and refuses
 * existing objects that are not the set's (unless adopt). Then creates the namespace when missing,
 * records the inventory, applies in order (Namespaces, CRDs, ServiceAccounts, RBAC,
 * ConfigMaps/Secrets, the rest) with fieldManager=appdeploy, without force first (a field another
 * manager owns is printed, then taken with force, or an error under no_force_conflicts), recreates
 * objects of safe kinds that the server refuses to change (after a dry-run shows the new one would
 * be accepted), merges -i secrets into the default ServiceAccount, then, only when every apply
 * succeeded, prunes the objects that carry the set's labels and are in its inventory but were not
 * rendered (none on a first apply without inventory), rewrites the inventory, waits for rollouts.
 * Returns 0, or -1 with err filled (a summary; per-object errors went to o->diag).
 */
int sync_apply(struct kube *k, json_t *rendered, const struct sync_opts *o, struct sm_error *err);

/*
 * Prints to out what sync_apply would change: a unified diff of the live object against the
 * server's dry-run result for each rendered object (fields set by the server's bookkeeping left out,
 * Secret values shown as ***), the objects that would be pruned, what apply would refuse, and the
 * unmanaged objects found in the namespace. *changes receives the number of objects that differ.
 * Returns 0 or -1 with err filled (also when apply would refuse or could not prune a kind).
 */
int sync_diff(struct kube *k, json_t *rendered, const struct sync_opts *o, FILE *out, int *changes, struct sm_error *err);

/* Writes a unified diff (3 lines of context) of text a vs b under the given labels; nothing when
 * equal. Returns 1 when they differ. */
int sync_udiff(FILE *out, const char *label_a, const char *a, const char *label_b, const char *b);

#endif
