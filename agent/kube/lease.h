/* lease.h — leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: acquire, renew, release. */
#ifndef SM_LEASE_H
#define SM_LEASE_H

#include "errbuf.h"
#include "kube.h"
#include "kubeconfig.h"

/*
 * One Lease (NS/NAME) held by identity (the pod's name). holderIdentity names the holder,
 * leaseDurationSeconds how long its last renewTime (a MicroTime, RFC 3339 with microseconds) counts.
 * Acquire: POST when absent; PUT with the resourceVersion read when it expired (renewTime + duration
 * before now), is free (holderIdentity "") or is ours; a 409 Conflict means another pod won: read again.
 * Release: PUT holderIdentity "" and leaseDurationSeconds 1, so the next pod takes over at once.
 */

#define LEASE_DURATION 15   /* seconds a renewal counts */
#define LEASE_RENEW 5.0     /* seconds between the holder's renewals */
#define LEASE_RETRY 2.0     /* seconds between a waiting pod's tries */
#define LEASE_DEADLINE 10.0 /* seconds without a successful renewal after which the holder stops syncing */

/* One try: acquires or renews the Lease. Returns 1 when identity holds it now, 0 when another pod does
 * (its name into holder), -1 with err filled when the Lease could not be read or written. */
int lease_try(struct kube *k, const char *ns, const char *name, const char *identity, char *holder, size_t holderlen,
	      struct sm_error *err);
/* Gives the Lease up when identity holds it. Returns 0 (also when not held), or -1 with err filled. */
int lease_release(struct kube *k, const char *ns, const char *name, const char *identity, struct sm_error *err);

/* Seconds since the epoch of an RFC 3339 time (a renewTime: "...Z" or "+hh:mm", fraction optional); -1
 * when unreadable (NULL too). */
double lease_parse_time(const char *s);

/* A thread that keeps trying (every LEASE_RETRY s) or renewing (every LEASE_RENEW s) and logs each change. */
struct lease_elector;

/* Tries once on the calling thread (so the first answer is known before anything syncs), then starts the
 * thread. kc, ns, name and identity are copied. Returns NULL with err filled when no client could be made. */
struct lease_elector *lease_start(const struct kube_config *kc, const char *ns, const char *name, const char *identity,
				  struct sm_error *err);
/* 1 while this process holds the Lease (thread-safe). */
int lease_leading(struct lease_elector *e);
/* The holder's identity as last read ("" none or unknown) into out (thread-safe). */
void lease_holder(struct lease_elector *e, char *out, size_t outlen);
/* The identity this process uses. */
const char *lease_identity(struct lease_elector *e);
/* Stops the thread and releases the Lease when held. */
void lease_stop(struct lease_elector *e);

#endif
