/* lease.c — the agent's leader election: one coordination.k8s.io/v1 Lease, acquired, renewed and released as client-go does. */
#include "lease.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "duration.h"
#include "log.h"

/* "2026-12-01T20:50:47.123456Z": a metav1.MicroTime (https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/lease-v1/). */
static void micro_now(char *out, size_t outlen)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%06ldZ", base, (long)tv.tv_usec);
}

double lease_parse_time(const char *s)
{
	struct tm tm = {0};
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!p)
		return -1;
	double t = (double)timegm(&tm);
	if (*p == '.') {
		double scale = 0.1;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			t += (*p - '0') * scale;
	}
	if (*p == '+' || *p == '-') {
		int h = 0, m = 0;
		if (sscanf(p + 1, "%d:%d", &h, &m) >= 1)
			t -= (*p == '+' ? 1 : -1) * (h * 3600.0 + m * 60.0);
	}
	return t;
}

static char *lease_path(const char *ns, const char *name)
{
	char *p;
	if (asprintf(&p, "/apis/coordination.k8s.io/v1/namespaces/%s/leases%s%s", ns, name ? "/" : "",
		     name ? name : "") < 0)
		abort();
	return p;
}

static json_t *spec_for(const char *identity, int duration, const char *acquire, json_int_t transitions)
{
	char now[64];
	micro_now(now, sizeof now);
	return json_pack("{s:s, s:i, s:s, s:s, s:I}", "holderIdentity", identity, "leaseDurationSeconds", duration,
			 "acquireTime", acquire ? acquire : now, "renewTime", now, "leaseTransitions", transitions);
}

int lease_try(struct kube *k, const char *ns, const char *name, const char *identity, char *holder, size_t holderlen,
	      struct sm_error *err)
{
	struct kube_req r = {.method = KUBE_GET, .path = lease_path(ns, name)};
	kube_do(k, &r, 1);
	holder[0] = 0;
	if (r.status == 404) {
		kube_req_clear(&r);
		json_t *body = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "coordination.k8s.io/v1",
					 "kind", "Lease", "metadata", "name", name, "namespace", ns, "spec",
					 spec_for(identity, LEASE_DURATION, NULL, 0));
		struct kube_req c = {.method = KUBE_POST, .path = lease_path(ns, NULL), .body = body};
		kube_do(k, &c, 1);
		json_decref(body);
		int rc = c.status / 100 == 2 ? 1 : c.status == 409 ? 0 : -1;
		if (rc == 1)
			snprintf(holder, holderlen, "%s", identity);
		if (rc < 0)
			sm_error_set(err, NULL, 0, 0, "cannot create lease %s/%s: %s", ns, name, c.err);
		kube_req_clear(&c);
		return rc;
	}
	if (r.status / 100 != 2) {
		sm_error_set(err, NULL, 0, 0, "cannot read lease %s/%s: %s", ns, name, r.err);
		kube_req_clear(&r);
		return -1;
	}
	json_t *lease = r.response, *spec = json_object_get(lease, "spec");
	const char *who = json_string_value(json_object_get(spec, "holderIdentity")) ?: "";
	json_int_t dur = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
	double renewed = lease_parse_time(json_string_value(json_object_get(spec, "renewTime")));
	struct timeval tv;
	gettimeofday(&tv, NULL);
	double now = (double)tv.tv_sec + tv.tv_usec / 1e6;
	int ours = !strcmp(who, identity), expired = !*who || renewed < 0 || renewed + (double)dur < now;
	if (!ours && !expired) {
		snprintf(holder, holderlen, "%s", who);
		kube_req_clear(&r);
		return 0;
	}
	json_int_t transitions = json_integer_value(json_object_get(spec, "leaseTransitions"));
	const char *acquired = json_string_value(json_object_get(spec, "acquireTime"));
	json_t *body = json_deep_copy(lease);
	json_object_set_new(body, "spec",
			    spec_for(identity, LEASE_DURATION, ours ? acquired : NULL,
				     ours ? transitions : transitions + (*who ? 1 : 0)));
	kube_req_clear(&r);
	struct kube_req u = {.method = KUBE_PUT, .path = lease_path(ns, name), .body = body};
	kube_do(k, &u, 1);
	json_decref(body);
	int rc = u.status / 100 == 2 ? 1 : u.status == 409 ? 0 : -1;
	if (rc == 1)
		snprintf(holder, holderlen, "%s", identity);
	if (rc < 0)
		sm_error_set(err, NULL, 0, 0, "cannot update lease %s/%s: %s", ns, name, u.err);
	kube_req_clear(&u);
	return rc;
}

int lease_release(struct kube *k, const char *ns, const char *name, const char *identity, struct sm_error *err)
{
	struct kube_req r = {.method = KUBE_GET, .path = lease_path(ns, name)};
	kube_do(k, &r, 1);
	if (r.status == 404) {
		kube_req_clear(&r);
		return 0;
	}
	if (r.status / 100 != 2) {
		sm_error_set(err, NULL, 0, 0, "cannot read lease %s/%s: %s", ns, name, r.err);
		kube_req_clear(&r);
		return -1;
	}
	json_t *spec = json_object_get(r.response, "spec");
	if (strcmp(json_string_value(json_object_get(spec, "holderIdentity")) ?: "", identity)) {
		kube_req_clear(&r);
		return 0;
	}
	json_t *body = json_deep_copy(r.response);
	json_t *ns_spec = json_object_get(body, "spec");
	char now[64];
	micro_now(now, sizeof now);
	json_object_set_new(ns_spec, "holderIdentity", json_string(""));
	json_object_set_new(ns_spec, "leaseDurationSeconds", json_integer(1));
	json_object_set_new(ns_spec, "renewTime", json_string(now));
	kube_req_clear(&r);
	struct kube_req u = {.method = KUBE_PUT, .path = lease_path(ns, name), .body = body};
	kube_do(k, &u, 1);
	json_decref(body);
	int rc = u.status / 100 == 2 ? 0 : -1;
	if (rc)
		sm_error_set(err, NULL, 0, 0, "cannot release lease %s/%s: %s", ns, name, u.err);
	kube_req_clear(&u);
	return rc;
}

/* ------------------------------------------------------------------ the elector thread */

struct lease_elector {
	struct kube *k;
	char *ns, *name, *identity;
	pthread_t th;
	int started; /* th runs */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int stopping; /* guarded by mu */
	atomic_int leading;
	atomic_int quit;      /* aborts the client's requests at stop */
	char holder[256];     /* guarded by mu */
	double renewed;       /* monotonic time of the last successful renewal (elector thread only) */
	char last_said[1024]; /* the last state logged (elector thread only) */
};

static void say(struct lease_elector *e, const char *text)
{
	if (!strcmp(text, e->last_said))
		return;
	snprintf(e->last_said, sizeof e->last_said, "%s", text);
	log_info("%s", text);
}

/* One try and what follows from it: leading, holder, the log line when the state changed. */
static void step(struct lease_elector *e)
{
	char holder[256], line[1024];
	struct sm_error err;
	int rc = lease_try(e->k, e->ns, e->name, e->identity, holder, sizeof holder, &err);
	double now = mono_seconds();
	if (rc == 1)
		e->renewed = now;
	int leading = rc == 1 || (rc < 0 && atomic_load(&e->leading) && now - e->renewed < LEASE_DEADLINE);
	pthread_mutex_lock(&e->mu);
	if (rc >= 0)
		snprintf(e->holder, sizeof e->holder, "%s", holder);
	pthread_mutex_unlock(&e->mu);
	atomic_store(&e->leading, leading);
	if (rc < 0 && !leading)
		snprintf(line, sizeof line, "lease %s/%s: %.700s; not syncing until it can be read", e->ns, e->name,
			 err.msg);
	else if (rc < 0)
		snprintf(line, sizeof line, "lease %s/%s: %.700s (still holding it)", e->ns, e->name, err.msg);
	else if (leading)
		snprintf(line, sizeof line, "lease %s/%s: held by this agent (%s): syncing", e->ns, e->name,
			 e->identity);
	else if (holder[0])
		snprintf(line, sizeof line, "waiting: agent %s is syncing (lease %s/%s)", holder, e->ns, e->name);
	else
		return; /* lost a race; the next try says who won */
	say(e, line);
}

static void *elector_main(void *arg)
{
	struct lease_elector *e = arg;
	pthread_mutex_lock(&e->mu);
	while (!e->stopping) {
		double wait = atomic_load(&e->leading) ? LEASE_RENEW : LEASE_RETRY;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)wait;
		until.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!e->stopping && !pthread_cond_timedwait(&e->cond, &e->mu, &until))
			;
		if (e->stopping)
			break;
		pthread_mutex_unlock(&e->mu);
		step(e);
		pthread_mutex_lock(&e->mu);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

struct lease_elector *lease_start(const struct kube_config *kc, const char *ns, const char *name, const char *identity,
				  struct sm_error *err)
{
	struct kube *k = kube_new(kc, err);
	if (!k)
		return NULL;
	struct lease_elector *e = calloc(1, sizeof *e);
	e->k = k;
	e->ns = strdup(ns);
	e->name = strdup(name);
	e->identity = strdup(identity);
	kube_set_retries(k, 2, 500);
	kube_set_limits(k, (long)LEASE_RENEW, &e->quit);
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	step(e);
	if (pthread_create(&e->th, NULL, elector_main, e)) {
		sm_error_set(err, NULL, 0, 0, "cannot start a thread");
		lease_stop(e);
		return NULL;
	}
	e->started = 1;
	return e;
}

int lease_leading(struct lease_elector *e) { return e && atomic_load(&e->leading); }

void lease_holder(struct lease_elector *e, char *out, size_t outlen)
{
	pthread_mutex_lock(&e->mu);
	snprintf(out, outlen, "%s", e->holder);
	pthread_mutex_unlock(&e->mu);
}

const char *lease_identity(struct lease_elector *e) { return e->identity; }

void lease_stop(struct lease_elector *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stopping = 1;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	if (e->started)
		pthread_join(e->th, NULL);
	if (atomic_load(&e->leading)) {
		struct sm_error err;
		atomic_store(&e->leading, 0);
		if (lease_release(e->k, e->ns, e->name, e->identity, &err))
			log_warn("%s (the next agent takes over when it expires)", err.msg);
		else
			log_info("lease %s/%s released", e->ns, e->name);
	}
	kube_free(e->k);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->mu);
	free(e->ns);
	free(e->name);
	free(e->identity);
	free(e);
}
