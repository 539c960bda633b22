/* wait.c — readiness of every workload kind (rollout status as kubectl computes it) and CRD establishment, over kube.h. */
#include "wait.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "duration.h"
#include "errbuf.h"
#include "diag.h"
#include "log.h"

#define POLL_NS 250000000L
#define POD_CHECK_EVERY 8 /* polls between looks at a slow workload's pods (about 2 s) */

enum wkind { W_NONE, W_DEPLOYMENT, W_STATEFULSET, W_DAEMONSET, W_JOB, W_READY };

struct follow {
	const struct wait_target *t;
	enum wkind kind;
	int done;          /* 1 ready, -1 failed */
	int polls;
	char *last;        /* the last progress line printed */
	char *pod_reason;  /* the first waiting pod's reason, when seen */
};

static void pause_poll(void)
{
	struct timespec ts = {0, POLL_NS};
	nanosleep(&ts, NULL);
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t int_at(json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

/* The condition of that type in status.conditions, or NULL. */
static json_t *condition(json_t *obj, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(json_object_get(obj, "status"), "conditions"), i, c) {
		const char *t = str(c, "type");
		if (t && !strcmp(t, type))
			return c;
	}
	return NULL;
}

static int is(const struct kube_resource *r, const char *group, const char *kind)
{
	return !strcmp(r->group, group) && !strcmp(r->kind, kind);
}

/* Groups whose kinds have no Ready condition worth waiting for (or are handled by kind above). */
static int builtin_group(const char *g)
{
	static const char *const groups[] = {"", "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io",
					     "policy", "apiextensions.k8s.io", "storage.k8s.io", "autoscaling",
					     "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
					     "admissionregistration.k8s.io", "certificates.k8s.io", "node.k8s.io",
					     "flowcontrol.apiserver.k8s.io", "events.k8s.io", "apiregistration.k8s.io",
					     "resource.k8s.io", "storagemigration.k8s.io"};
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
		if (!strcmp(g, groups[i]))
			return 1;
	return 0;
}

static enum wkind kind_of(const struct kube_resource *r)
{
	if (is(r, "apps", "Deployment"))
		return W_DEPLOYMENT;
	if (is(r, "apps", "StatefulSet"))
		return W_STATEFULSET;
	if (is(r, "apps", "DaemonSet"))
		return W_DAEMONSET;
	if (is(r, "batch", "Job"))
		return W_JOB;
	if (is(r, "", "Pod") || !builtin_group(r->group))
		return W_READY;
	return W_NONE;
}

/* "app=web,tier=x" from spec.selector.matchLabels (a Job's pods: its job-name label). malloc'd or NULL. */
static char *pod_selector(const struct follow *f, json_t *obj)
{
	if (f->kind == W_JOB) {
		char *s;
		return asprintf(&s, "job-name=%s", f->t->name) < 0 ? NULL : s;
	}
	json_t *ml = json_object_get(json_object_get(json_object_get(obj, "spec"), "selector"), "matchLabels");
	if (!json_object_size(ml))
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	const char *key;
	json_t *v;
	int first = 1;
	json_object_foreach(ml, key, v) {
		fprintf(m, "%s%s=%s", first ? "" : ",", key, json_string_value(v) ? json_string_value(v) : "");
		first = 0;
	}
	fclose(m);
	return buf;
}

/* The first pod of the workload whose container waits for a reason other than starting up, or has
 * terminated with an error: "pod web-1 container web: ImagePullBackOff: Back-off pulling image ...". */
static char *failing_pod(struct kube *k, const struct follow *f, json_t *obj, const char *ns)
{
	const struct kube_resource *pods = kube_find(k, "v1", "Pod");
	char *sel = pods ? pod_selector(f, obj) : NULL;
	if (!sel)
		return NULL;
	json_t *items = NULL;
	struct sm_error err;
	char *out = NULL;
	if (!kube_list_many(k, &pods, 1, ns, sel, &items, &err)) {
		size_t i, j;
		json_t *pod, *cs;
		json_array_foreach(items, i, pod) {
			json_t *st = json_object_get(pod, "status");
			json_t *all = json_array();
			json_array_extend(all, json_object_get(st, "initContainerStatuses"));
			json_array_extend(all, json_object_get(st, "containerStatuses"));
			json_array_foreach(all, j, cs) {
				json_t *w = json_object_get(json_object_get(cs, "state"), "waiting");
				json_t *term = json_object_get(json_object_get(cs, "lastState"), "terminated");
				const char *reason = str(w, "reason");
				if (!reason || !strcmp(reason, "ContainerCreating") || !strcmp(reason, "PodInitializing"))
					continue;
				const char *msg = str(w, "message");
				char extra[128] = "";
				if (term && json_integer_value(json_object_get(term, "exitCode")))
					snprintf(extra, sizeof extra, " (last exit code %lld)",
						 (long long)json_integer_value(json_object_get(term, "exitCode")));
				if (asprintf(&out, "pod %s container %s: %s%s%s%s",
					     str(json_object_get(pod, "metadata"), "name") ?: "?", str(cs, "name") ?: "?", reason,
					     msg && *msg ? ": " : "", msg ? msg : "", extra) < 0)
					out = NULL;
				break;
			}
			json_decref(all);
			if (out)
				break;
		}
		json_decref(items);
	}
	free(sel);
	return out;
}

/* Reads obj's progress into line (what is printed) and returns 1 ready, 0 not yet, -1 failed (why in
 * *why, pointing into obj). */
static int progress(const struct follow *f, json_t *obj, char *line, size_t cap, const char **why)
{
	json_t *spec = json_object_get(obj, "spec");
	json_int_t gen = json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
	json_int_t obs = int_at(obj, "status", "observedGeneration");
	json_int_t want = json_object_get(spec, "replicas") ? int_at(obj, "spec", "replicas") : 1;
	*why = NULL;
	line[0] = 0;
	switch (f->kind) {
	case W_DEPLOYMENT: {
		json_int_t upd = int_at(obj, "status", "updatedReplicas"), avail = int_at(obj, "status", "availableReplicas");
		json_int_t total = int_at(obj, "status", "replicas");
		snprintf(line, cap, "%lld/%lld updated, %lld/%lld available", (long long)upd, (long long)want,
			 (long long)avail, (long long)want);
		json_t *p = condition(obj, "Progressing");
		if (p && str(p, "reason") && !strcmp(str(p, "reason"), "ProgressDeadlineExceeded") && obs >= gen) {
			*why = str(p, "message") ? str(p, "message") : "ProgressDeadlineExceeded";
			return -1;
		}
		return obs >= gen && upd >= want && avail >= want && total <= upd;
	}
	case W_STATEFULSET: {
		const char *strategy = str(json_object_get(spec, "updateStrategy"), "type");
		json_int_t ready = int_at(obj, "status", "readyReplicas"), upd = int_at(obj, "status", "updatedReplicas");
		snprintf(line, cap, "%lld/%lld ready, %lld/%lld updated", (long long)ready, (long long)want, (long long)upd,
			 (long long)want);
		if (strategy && strcmp(strategy, "RollingUpdate"))
			return obs >= gen; /* OnDelete: nothing rolls out by itself */
		const char *cur = str(json_object_get(obj, "status"), "currentRevision");
		const char *next = str(json_object_get(obj, "status"), "updateRevision");
		return obs >= gen && ready >= want && upd >= want && cur && next && !strcmp(cur, next);
	}
	case W_DAEMONSET: {
		const char *strategy = str(json_object_get(spec, "updateStrategy"), "type");
		json_int_t desired = int_at(obj, "status", "desiredNumberScheduled");
		json_int_t upd = int_at(obj, "status", "updatedNumberScheduled");
		json_int_t avail = int_at(obj, "status", "numberAvailable");
		snprintf(line, cap, "%lld/%lld updated, %lld/%lld available", (long long)upd, (long long)desired,
			 (long long)avail, (long long)desired);
		if (strategy && strcmp(strategy, "RollingUpdate"))
			return obs >= gen;
		return obs >= gen && upd >= desired && avail >= desired;
	}
	case W_JOB: {
		json_int_t active = int_at(obj, "status", "active"), ok = int_at(obj, "status", "succeeded");
		json_int_t bad = int_at(obj, "status", "failed");
		json_int_t completions = json_object_get(spec, "completions") ? int_at(obj, "spec", "completions") : 1;
		snprintf(line, cap, "%lld/%lld succeeded, %lld active, %lld failed", (long long)ok, (long long)completions,
			 (long long)active, (long long)bad);
		json_t *failed = condition(obj, "Failed");
		if (failed && !strcmp(str(failed, "status") ?: "", "True")) {
			*why = str(failed, "reason") ? str(failed, "reason") : "Failed";
			return -1;
		}
		json_t *complete = condition(obj, "Complete");
		return complete && !strcmp(str(complete, "status") ?: "", "True");
	}
	case W_READY: {
		json_t *c = condition(obj, "Ready");
		if (!c)
			return 1; /* no Ready condition: nothing to wait for (the caller decides on the first look) */
		const char *st = str(c, "status") ?: "Unknown", *reason = str(c, "reason");
		snprintf(line, cap, "Ready=%s%s%s", st, reason && *reason ? " " : "", reason ? reason : "");
		json_t *og = json_object_get(c, "observedGeneration");
		if (og && json_integer_value(og) < gen)
			return 0;
		return !strcmp(st, "True");
	}
	case W_NONE: break;
	}
	return 1;
}

static const char *done_word(enum wkind k)
{
	return k == W_JOB ? "completed" : k == W_READY ? "ready" : "rolled out";
}

/* The reason of a failed Job, with its condition's message. */
static void job_failure(json_t *obj, char *buf, size_t cap, const char *reason)
{
	json_t *c = condition(obj, "Failed");
	const char *msg = c ? str(c, "message") : NULL;
	snprintf(buf, cap, "%s%s%s", reason, msg && *msg ? ": " : "", msg ? msg : "");
}

int wait_ready(struct kube *k, const struct wait_target *t, size_t n, const char *ns, double timeout, FILE *out)
{
	struct follow *fs = calloc(n ? n : 1, sizeof *fs);
	size_t left = 0;
	for (size_t i = 0; i < n; i++) {
		fs[i].t = &t[i];
		fs[i].kind = kind_of(t[i].res);
		if (fs[i].kind == W_NONE)
			fs[i].done = 1;
		else
			left++;
	}
	int rc = 0;
	double deadline = mono_seconds() + timeout;
	struct kube_req *reqs = calloc(n ? n : 1, sizeof *reqs);
	const struct kube_resource **res = calloc(n ? n : 1, sizeof *res);
	const char **names = calloc(n ? n : 1, sizeof *names);
	while (left) {
		size_t q = 0;
		for (size_t i = 0; i < n; i++)
			if (!fs[i].done) {
				res[q] = fs[i].t->res;
				names[q] = fs[i].t->name;
				reqs[q++] = (struct kube_req){.method = KUBE_GET,
							      .path = kube_path(fs[i].t->res, ns, fs[i].t->name, NULL),
							      .data = &fs[i]};
			}
		/* many objects of one kind (50 Deployments): one list per kind per poll, not a GET each */
		kube_get_many(k, res, names, q, ns, reqs);
		int timed_out = mono_seconds() > deadline;
		for (size_t j = 0; j < q; j++) {
			struct follow *f = reqs[j].data;
			json_t *obj = reqs[j].response;
			if (reqs[j].status != 200) {
				diag_error(kube_diag(k), "%s: %s", f->t->label, reqs[j].err);
				f->done = -1, left--, rc = -1;
				kube_req_clear(&reqs[j]);
				continue;
			}
			if (f->kind == W_READY && !f->polls && !condition(obj, "Ready")) {
				f->done = 1, left--; /* a kind without a Ready condition: not something to wait for */
				kube_req_clear(&reqs[j]);
				continue;
			}
			f->polls++;
			char line[256];
			const char *why;
			int st = progress(f, obj, line, sizeof line, &why);
			if (line[0] && (!f->last || strcmp(f->last, line))) {
				fprintf(out, "%s: %s\n", f->t->label, line);
				fflush(out);
				free(f->last);
				f->last = strdup(line);
			}
			/* a slow workload: look at its pods now and then, and say when one is stuck */
			if (st == 0 && f->kind != W_READY && (f->polls % POD_CHECK_EVERY == 0 || timed_out)) {
				char *pr = failing_pod(k, f, obj, ns);
				if (pr && (!f->pod_reason || strcmp(pr, f->pod_reason))) {
					fprintf(out, "%s: %s\n", f->t->label, pr);
					fflush(out);
				}
				if (pr) {
					free(f->pod_reason);
					f->pod_reason = pr;
				}
			}
			if (st < 0) {
				char reason[768];
				if (f->kind == W_JOB)
					job_failure(obj, reason, sizeof reason, why);
				else
					snprintf(reason, sizeof reason, "%s", why);
				if (!f->pod_reason)
					f->pod_reason = failing_pod(k, f, obj, ns);
				diag_error(kube_diag(k), "%s: %s failed: %s%s%s", f->t->label, f->kind == W_JOB ? "job" : "rollout", reason,
					  f->pod_reason ? "; " : "", f->pod_reason ? f->pod_reason : "");
				f->done = -1, left--, rc = -1;
			} else if (st > 0) {
				fprintf(out, "%s %s\n", f->t->label, done_word(f->kind));
				fflush(out);
				f->done = 1, left--;
			} else if (timed_out) {
				diag_error(kube_diag(k), "%s: not %s after %.0fs%s%s", f->t->label, done_word(f->kind), timeout,
					  f->pod_reason ? "; " : "", f->pod_reason ? f->pod_reason : "");
				f->done = -1, left--, rc = -1;
			}
			kube_req_clear(&reqs[j]);
		}
		if (left)
			pause_poll();
	}
	for (size_t i = 0; i < n; i++) {
		free(fs[i].last);
		free(fs[i].pod_reason);
	}
	free(reqs);
	free(res);
	free(names);
	free(fs);
	return rc;
}

int wait_crds_established(struct kube *k, const char *const *names, size_t n, double timeout, struct sm_error *err)
{
	if (!n)
		return 0;
	const struct kube_resource *crd = kube_find(k, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
	if (!crd) {
		sm_error_set(err, NULL, 0, 0, "the server has no apiextensions.k8s.io/v1 CustomResourceDefinitions");
		return -1;
	}
	int *ok = calloc(n, sizeof *ok);
	double deadline = mono_seconds() + timeout;
	int rc = 1;
	char last[640] = "";
	while (rc > 0) {
		size_t left = 0;
		for (size_t i = 0; i < n && rc > 0; i++) {
			if (ok[i])
				continue;
			struct kube_req r = {.method = KUBE_GET, .path = kube_path(crd, NULL, names[i], NULL)};
			kube_do(k, &r, 1);
			json_t *est = r.status == 200 ? condition(r.response, "Established") : NULL;
			json_t *acc = r.status == 200 ? condition(r.response, "NamesAccepted") : NULL;
			if (r.status != 200) {
				sm_error_set(err, NULL, 0, 0, "customresourcedefinition %s: %s", names[i], r.err);
				rc = -1;
			} else if (est && !strcmp(str(est, "status") ?: "", "True")) {
				ok[i] = 1;
			} else if (acc && !strcmp(str(acc, "status") ?: "", "False")) {
				sm_error_set(err, NULL, 0, 0, "customresourcedefinition %s: its names were not accepted: %s", names[i],
					str(acc, "message") ?: str(acc, "reason") ?: "");
				rc = -1;
			} else {
				left++;
				snprintf(last, sizeof last, "customresourcedefinition %s is not established after %.0fs%s%s%s%s",
					 names[i], timeout, est ? " (" : "", est ? str(est, "reason") ?: "" : "",
					 est && str(est, "message") ? ": " : "", est ? str(est, "message") ?: "" : "");
				if (est)
					strncat(last, ")", sizeof last - strlen(last) - 1);
			}
			kube_req_clear(&r);
		}
		if (rc < 0)
			break;
		if (!left) {
			rc = 0;
			break;
		}
		if (mono_seconds() > deadline) {
			sm_error_set(err, NULL, 0, 0, "%s", last);
			rc = -1;
			break;
		}
		pause_poll();
	}
	free(ok);
	return rc;
}
