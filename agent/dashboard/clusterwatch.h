/* clusterwatch.h — the dashboard's picture of a namespace from watches (Deployments, Pods, Events) and a per-poll read of the source-mode ConfigMap. */
#ifndef SM_CLUSTERWATCH_H
#define SM_CLUSTERWATCH_H

#include <jansson.h>

#include "kube.h"
#include "kubeconfig.h"

/*
 * Replaces the poller's lists: the three collections are listed once and then followed by kwatch.c
 * (one thread each), so an idle namespace costs one small GET per poll, the ConfigMap's, which is
 * also the liveness check behind the page's stale badge (a hung API server answers no GET, so the
 * page turns stale after 2 polls as before, whatever the quiet watch streams are doing).
 *
 * Threads: created, used and stopped by the poller thread alone; changed() runs on a watch thread
 * (it must only wake the poller). The snapshots it returns are the poller's (deep copies of the
 * watches' caches: nothing is shared with the watch threads).
 */
struct clusterwatch;

/* Starts the watches of namespace ns; requests give up after timeout_s; waits for them end when *quit
 * (borrowed) is set. Returns NULL with err filled. */
struct clusterwatch *clusterwatch_start(const struct kube_config *kc, const char *ns, long timeout_s,
					const atomic_int *quit, void (*changed)(void *arg), void *arg, struct sm_error *err);
/* Stops the watch threads and frees everything. */
void clusterwatch_stop(struct clusterwatch *cw);

/*
 * The snapshot {namespace, deployments: clusterview_deployments(...), source: {NAME: true}, error}, a
 * new reference: the very object of the last call while nothing changed (json_equal is then free).
 * probe: read the ConfigMap now with k (the poller's client; every poll interval and after a job's
 * change), else reuse the last answer. fresh: relist every collection first, so the snapshot is at
 * least as new as the server was at this call (what a job reports must not be ahead of the page).
 * error is the ConfigMap read's failure, else the first collection's that is not known right now.
 */
json_t *clusterwatch_snapshot(struct clusterwatch *cw, struct kube *k, int probe, int fresh);

#endif
