/* wait.h — waiting for applied objects to become ready (--wait) and for CRDs to be established. */
#ifndef SM_WAIT_H
#define SM_WAIT_H

#include <stddef.h>
#include <stdio.h>

#include "kube.h"

/* One applied object to follow (all borrowed). */
struct wait_target {
	const struct kube_resource *res;
	const char *name;
	const char *label; /* "deployment.apps/web", for progress lines and errors */
};

/*
 * Follows the targets until each is ready, failed, or timeout seconds passed, printing one line to out
 * whenever an object's progress changes and when it is done ("deployment.apps/web rolled out"):
 *   Deployment   observedGeneration, updated/available replicas; fails on ProgressDeadlineExceeded
 *   StatefulSet  observedGeneration, ready/updated replicas, currentRevision == updateRevision
 *   DaemonSet    observedGeneration, updated/available == desiredNumberScheduled
 *   Job          condition Complete; fails on condition Failed (BackoffLimitExceeded, DeadlineExceeded)
 *   Pod and custom resources with a standard Ready condition: Ready=True
 * Other kinds are not waited for. A failure or timeout names the reason, and for workloads the first
 * waiting pod's reason (ImagePullBackOff, CrashLoopBackOff, ...), on stderr via log_error.
 * Returns 0 when every target is ready, else -1.
 */
int wait_ready(struct kube *k, const struct wait_target *t, size_t n, const char *ns, double timeout, FILE *out);

/*
 * Waits until each of the n CustomResourceDefinitions (by name) has condition Established=True. Returns 0,
 * or -1 with err naming the first one that was not established in time (with its condition's reason and
 * message) or whose names were not accepted.
 */
int wait_crds_established(struct kube *k, const char *const *names, size_t n, double timeout, struct sm_error *err);

#endif
