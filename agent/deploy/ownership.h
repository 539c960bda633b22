/* ownership.h — what a set owns: the labels, the set's origin, its inventory ConfigMap, adoption and prune decisions. */
#ifndef SM_OWNERSHIP_H
#define SM_OWNERSHIP_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "kube.h"

/* Label on the inventory ConfigMap naming its set (the set label itself is left off it, so the
 * inventory is never a prune candidate of its own set). */
#define OWN_LABEL_INVENTORY "appdeploy.sourcemode.dev/inventory"
/* Annotation allowing appdeploy to delete and re-create an object the server refuses to change. */
#define OWN_ANNOTATION_RECREATE "appdeploy.sourcemode.dev/recreate"

/*
 * Where DIR is applied from: "git:REMOTE_URL//PATH/IN/REPO" when DIR is inside a git work tree
 * whose remote "origin" is set (credentials in the URL left out, ".git" suffix dropped), else
 * "path:/ABSOLUTE/DIR". Two clones of one repository give the same origin for the same folder;
 * two folders never give the same one. malloc'd; NULL only when out of memory.
 */
char *own_origin(const char *dir);

/* The url of remote "origin" in the text of a git config file, without credentials
 * ("https://user:token@host/x.git" -> "https://host/x") and without a trailing ".git" or "/";
 * malloc'd, NULL when there is none. */
char *own_git_remote_url(const char *config);

/* The inventory ConfigMap's name for a set: "appdeploy-set-NAME" (NAME made a DNS subdomain;
 * when that changed it, an 8-hex digest of the real name is appended so two sets never share it). */
char *own_inventory_name(const char *set);

/* group/kind/namespace/name, the identity sync and the inventory agree on ("" group and
 * namespace for core and cluster-scoped). malloc'd. */
char *own_key(const char *api_version, const char *kind, const char *ns, const char *name);

/* One object the set applied. Strings are malloc'd. */
struct own_entry {
	char *api_version; /* "apps/v1" */
	char *kind;        /* "Deployment" */
	char *ns;          /* "" when cluster-scoped */
	char *name;
	char *uid;         /* "" while not known (recorded before the first write) */
	char *key;         /* own_key of the above */
};

/* A set's inventory as read from the cluster. */
struct own_inventory {
	int found;               /* the ConfigMap exists */
	char *origin;            /* where the set was last applied from ("" in an unreadable inventory) */
	struct own_entry *v;     /* the objects it lists */
	size_t n;
	char *text;              /* the "objects" value as stored, to skip writes that change nothing */
};

/* Reads the inventory of set in ns (a missing namespace or ConfigMap is found = 0). Returns 0, or
 * -1 with err filled. */
int own_inventory_load(struct kube *k, const char *ns, const char *set, struct own_inventory *inv, struct sm_error *err);
void own_inventory_free(struct own_inventory *inv);

/* Appends an entry (strings copied; a later entry with the same key replaces the earlier one). */
void own_entries_add(struct own_entry **v, size_t *n, const char *api_version, const char *kind, const char *ns,
		     const char *name, const char *uid);
void own_entries_free(struct own_entry *v, size_t n);
/* The inventory's text form: "APIVERSION KIND NAMESPACE NAME UID" a line, sorted by key (v is
 * sorted in place), "-" for an empty namespace or uid. malloc'd. */
char *own_entries_text(struct own_entry *v, size_t n);
/* Adds the entries of such a text to *v (lines that do not have five fields, or name no possible object: a
 * '/' in the kind, namespace or name, two in the apiVersion, are skipped). */
void own_entries_parse(const char *text, struct own_entry **v, size_t *n);
/* The entry with that key, or NULL. */
const struct own_entry *own_entries_find(const struct own_entry *v, size_t n, const char *key);

/*
 * Writes the inventory of set (server-side apply of the ConfigMap) unless prev already holds the
 * same origin and entries. *written tells whether a write was sent. Returns 0 or -1 with err filled.
 */
int own_inventory_save(struct kube *k, const char *ns, const char *set, const char *origin, struct own_entry *v,
		       size_t n, const struct own_inventory *prev, int *written, struct sm_error *err);

/* How a live object stands with respect to a set. */
enum own_state {
	OWN_OURS,       /* carries our labels (or is in our inventory under the same uid) */
	OWN_UNLABELLED, /* no appdeploy labels: created by hand, kubectl, Helm, another tool */
	OWN_OTHER_SET,  /* labelled by appdeploy for another set */
};

/* Classifies live; owner receives who owns it otherwise ("set \"x\"", "field manager kubectl-create"). */
enum own_state own_classify(json_t *live, const char *set, const struct own_inventory *inv, char *owner,
			    size_t ownerlen);

/* True when o carries managed-by appdeploy and set = set. */
int own_labelled(json_t *o, const char *set);

/* True when rendered (kind in group; live: the object in the cluster, may be NULL) may be deleted
 * and created again to get past an immutable field: workload and Service kinds, ConfigMaps/Secrets
 * marked immutable (rendered or live), or the recreate annotation set to "true". Never a PVC, PV,
 * Namespace or CRD without the annotation. */
int own_recreate_allowed(json_t *rendered, json_t *live, const char *group, const char *kind);

/* Objects that are never ours even when they carry our labels: those with ownerReferences (a
 * controller made them), the namespace's default ServiceAccount and kube-root-ca.crt. */
int own_system_object(json_t *o, const char *kind);

/* The label selector of a set's objects (managed-by + set). malloc'd. */
char *own_selector(const char *set);

/* One inventory entry that is not rendered any more. */
struct own_cand {
	const struct own_entry *e;       /* its inventory entry (borrowed from the inventory) */
	const struct kube_resource *res; /* its kind (borrowed from the client's discovery) */
	json_t *live;                    /* the object to delete (owned); NULL: gone or no longer ours,
					  * only the inventory entry goes */
};

/*
 * The prune plan of set in ns: the inventory entries whose key is not among the n rendered keys,
 * each with its live object when that still carries the set's labels and the recorded uid (the
 * only objects prune may delete). Only the kinds of those entries are listed (cluster-wide for
 * cluster-scoped kinds). A kind that cannot be discovered or listed is logged by name, its
 * entries are left out of *out (kept in the inventory), and -1 is returned with err filled; the
 * rest of the plan is still returned. notes (may be NULL) hears about objects replaced under
 * the same name. *out: free with own_cands_free.
 */
int own_prune_plan(struct kube *k, const struct own_inventory *inv, const char *const *rendered, size_t n,
		   const char *ns, const char *set, FILE *notes, struct own_cand **out, size_t *nout, struct sm_error *err);
void own_cands_free(struct own_cand *c, size_t n);

#endif
