/* agentrbac.h — the RBAC rules the in-cluster agent needs for a rendered set: its Role in the target namespace and, for cluster-scoped kinds, its ClusterRole. */
#ifndef SM_AGENTRBAC_H
#define SM_AGENTRBAC_H

#include <jansson.h>

#include "errbuf.h"
#include "kube.h"

/* Resolves a manifest's apiVersion + kind: *group ("" core), *plural and *namespaced (borrowed, valid while
 * the resolver's owner lives). Returns 0, or -1 when the kind is unknown. */
typedef int (*agentrbac_resolve_fn)(void *arg, const char *api_version, const char *kind, const char **group,
				    const char **plural, int *namespaced);

/* The resolver over a client's discovery (kube_find); arg is the struct kube. */
int agentrbac_kube_resolve(void *arg, const char *api_version, const char *kind, const char **group,
			   const char **plural, int *namespaced);

/*
 * From objs (render_dir's array of {file, line, object}):
 *   *rules: one rule per API group of the set's namespaced kinds (resources: the plural of each kind,
 *     verbs get,list,watch,create,update,patch,delete), plus what the agent itself uses in the namespace:
 *     configmaps (the inventory, the source-mode state) with those verbs, pods get/list/watch, pods/log get,
 *     pods/proxy get/create (reloader pokes), events list/watch and deployments/replicasets get/list/watch
 *     (the dashboard's watches), and secrets with every verb when a Deployment offers synced source mode
 *     (apply then makes the sync-token Secret);
 *   *cluster_rules: the same for the cluster-scoped kinds (an empty array when there are none).
 * A resource's verbs are the union of what each source asks; rules with the same group and verbs are
 * merged; resources are sorted, rules are sorted by group then resources, verbs keep the order above.
 * A kind the resolver does not know is taken from a CustomResourceDefinition of objs when one defines it.
 * Returns 0 with two new arrays, or -1 with err naming the object whose kind is unknown.
 */
int agentrbac_rules(json_t *objs, agentrbac_resolve_fn resolve, void *arg, json_t **rules, json_t **cluster_rules,
		    struct sm_error *err);

#endif
