/* clusterview.c — what the dashboard shows of a namespace, computed from the API server's lists: one summary per Deployment (state, reason, pods, events). Pure functions, no I/O. */
#include "clusterview.h"
#include "sourcemode.h"

#include <stdlib.h>
#include <string.h>

const char *cv_annotation(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
}

static int labels_match(json_t *want, json_t *labels)
{
	const char *k;
	json_t *v;
	if (!json_object_size(want))
		return 0;
	json_object_foreach(want, k, v) {
		json_t *have = json_object_get(labels, k);
		if (!have || !json_equal(have, v))
			return 0;
	}
	return 1;
}

json_int_t cv_int(json_t *o, const char *a, const char *b, json_int_t dflt)
{
	json_t *v = json_object_get(json_object_get(o, a), b);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static json_t *pod_summary(json_t *pod)
{
	json_t *md = json_object_get(pod, "metadata"), *st = json_object_get(pod, "status");
	json_int_t restarts = 0;
	int ready = 1, n = 0;
	size_t i;
	json_t *cs;
	json_array_foreach(json_object_get(st, "containerStatuses"), i, cs) {
		restarts += json_integer_value(json_object_get(cs, "restartCount"));
		ready &= json_is_true(json_object_get(cs, "ready"));
		n++;
	}
	/* why a container is not running, as `kubectl get pods` shows it (ImagePullBackOff, CrashLoopBackOff) */
	const char *reason = NULL;
	json_array_foreach(json_object_get(st, "containerStatuses"), i, cs) {
		json_t *state = json_object_get(cs, "state");
		const char *r = json_string_value(json_object_get(json_object_get(state, "waiting"), "reason"));
		if (!r)
			r = json_string_value(json_object_get(json_object_get(state, "terminated"), "reason"));
		if (r && !reason)
			reason = r;
	}
	const char *phase = json_string_value(json_object_get(st, "phase"));
	int deleting = json_object_get(md, "deletionTimestamp") != NULL;
	json_t *containers = json_array(), *c;
	json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c) {
		json_array_append_new(containers, json_string(json_string_value(json_object_get(c, "name")) ?: ""));
	}
	return json_pack("{s:s?, s:s, s:b, s:I, s:s?, s:b, s:s?, s:o}", "name", json_string_value(json_object_get(md, "name")),
			 "phase", deleting ? "Terminating" : phase ? phase : "Pending", "ready", n && ready && !deleting,
			 "restarts", restarts, "created", json_string_value(json_object_get(md, "creationTimestamp")),
			 "deleting", deleting, "reason", reason, "containers", containers);
}

/* Objects of a list sorted by name, so that a Deployment finds its pods and events (named NAME or
 * NAME-...) by binary search instead of a scan per Deployment (500 x 500 lookups each poll). */
struct by_name {
	const char *name;
	json_t *obj;
	size_t pos; /* position in the list: keeps the API server's order within a Deployment */
};

static int by_name_cmp(const void *a, const void *b)
{
	const struct by_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int by_pos_cmp(const void *a, const void *b)
{
	const struct by_name *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* items sorted by the name at item["metadata"]["name"] (key "metadata") or item["involvedObject"]["name"]. */
static struct by_name *index_by_name(json_t *items, const char *key, size_t *n)
{
	*n = json_array_size(items);
	struct by_name *ix = calloc(*n ? *n : 1, sizeof *ix);
	size_t i;
	json_t *o;
	json_array_foreach(items, i, o) {
		ix[i].name = json_string_value(json_object_get(json_object_get(o, key), "name")) ?: "";
		ix[i].obj = o;
		ix[i].pos = i;
	}
	qsort(ix, *n, sizeof *ix, by_name_cmp);
	return ix;
}

/* The entries named name or name-..., in list order, into out (caller frees). */
static struct by_name *named(const struct by_name *ix, size_t n, const char *name, size_t *m)
{
	size_t lo = 0, hi = n, nl = strlen(name);
	while (lo < hi) { /* first entry >= name */
		size_t mid = (lo + hi) / 2;
		if (strcmp(ix[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct by_name *out = calloc(n - lo + 1, sizeof *out);
	*m = 0;
	for (size_t i = lo; i < n && !strncmp(ix[i].name, name, nl); i++)
		if (ix[i].name[nl] == 0 || ix[i].name[nl] == '-')
			out[(*m)++] = ix[i];
	qsort(out, *m, sizeof *out, by_pos_cmp);
	return out;
}

/* Events about the Deployment, its ReplicaSets and its pods (named NAME-...), newest last, at most 10. */
static json_t *events_of(const char *name, const struct by_name *events, size_t n_events)
{
	json_t *out = json_array(), *e;
	size_t n;
	struct by_name *mine = named(events, n_events, name, &n);
	for (size_t i = 0; i < n; i++) {
		e = mine[i].obj;
		const char *on = mine[i].name;
		const char *when = json_string_value(json_object_get(e, "lastTimestamp"));
		if (!when)
			when = json_string_value(json_object_get(e, "eventTime"));
		if (!when)
			when = json_string_value(json_object_get(json_object_get(e, "metadata"), "creationTimestamp"));
		json_array_append_new(out, json_pack("{s:s?, s:s?, s:s?, s:s?, s:s, s:I}", "type",
						     json_string_value(json_object_get(e, "type")), "reason",
						     json_string_value(json_object_get(e, "reason")), "message",
						     json_string_value(json_object_get(e, "message")), "time", when, "object",
						     on, "count",
						     json_is_integer(json_object_get(e, "count")) ? json_integer_value(json_object_get(e, "count")) : 1));
	}
	free(mine);
	while (json_array_size(out) > 10)
		json_array_remove(out, 0);
	return out;
}

static json_t *deployment_summary(json_t *d, const struct by_name *pods, size_t n_pods, json_t *source,
				  const struct by_name *events, size_t n_events)
{
	json_t *md = json_object_get(d, "metadata"), *spec = json_object_get(d, "spec"), *st = json_object_get(d, "status");
	const char *name = json_string_value(json_object_get(md, "name"));
	json_int_t desired = json_is_integer(json_object_get(spec, "replicas")) ? json_integer_value(json_object_get(spec, "replicas")) : 1;
	json_int_t ready = cv_int(d, "status", "readyReplicas", 0), updated = cv_int(d, "status", "updatedReplicas", 0);
	json_int_t gen = cv_int(d, "metadata", "generation", 0), observed = cv_int(d, "status", "observedGeneration", 0);
	const char *state = "running", *message = NULL, *reason = NULL;
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(st, "conditions"), i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *cst = json_string_value(json_object_get(c, "status"));
		if (type && cst && !strcmp(type, "Progressing") && !strcmp(cst, "False")) {
			state = "failed";
			message = json_string_value(json_object_get(c, "message"));
			reason = json_string_value(json_object_get(c, "reason"));
		}
	}
	if (strcmp(state, "failed")) {
		if (desired == 0)
			state = "stopped";
		else if (observed < gen || updated < desired || ready < desired)
			state = "progressing";
	}
	/* the container that source mode switches: the annotation's, else the first */
	const char *cname = cv_annotation(d, "sourcemode.dev/container");
	json_t *containers = json_object_get(json_object_get(json_object_get(spec, "template"), "spec"), "containers");
	json_t *main_c = json_array_get(containers, 0);
	json_array_foreach(containers, i, c) {
		if (cname && !strcmp(json_string_value(json_object_get(c, "name")) ?: "", cname))
			main_c = c;
	}
	json_t *sel = json_object_get(json_object_get(spec, "selector"), "matchLabels");
	json_t *mine = json_array(), *p;
	/* a Deployment's pods are named after it (NAME-RSHASH-SUFFIX); the selector decides */
	size_t np;
	struct by_name *cand = named(pods, n_pods, name ?: "", &np);
	for (size_t k = 0; k < np; k++)
		if (labels_match(sel, json_object_get(json_object_get(cand[k].obj, "metadata"), "labels")))
			json_array_append_new(mine, pod_summary(cand[k].obj));
	free(cand);
	const char *runner = cv_annotation(d, "sourcemode.dev/runner");
	int smode = sourcemode_of_state(json_object_get(source, name ?: ""));
	/* a failed or stuck pod says why (ImagePullBackOff...) when the Deployment itself does not */
	json_array_foreach(mine, i, p) {
		const char *pr = json_string_value(json_object_get(p, "reason"));
		if (pr && !reason && strcmp(state, "running"))
			reason = pr;
	}
	json_t *evs = events_of(name ?: "", events, n_events);
	if (!message && strcmp(state, "running")) {
		for (size_t e = json_array_size(evs); e-- > 0;) {
			json_t *ev = json_array_get(evs, e);
			if (!strcmp(json_string_value(json_object_get(ev, "type")) ?: "", "Warning")) {
				message = json_string_value(json_object_get(ev, "message"));
				if (!reason)
					reason = json_string_value(json_object_get(ev, "reason"));
				break;
			}
		}
	}
	json_t *out = json_pack("{s:s?, s:I, s:I, s:I, s:s, s:s?, s:s?, s:s, s:b, s:s?, s:s?, s:s?, s:s?, s:s?, s:o}", "name", name,
			 "desired", desired, "ready", ready, "updated", updated, "state", state, "message", message, "reason", reason, "mode",
			 smode ? "source" : "ci", "source_capable", runner != NULL,
			 "runner", runner, "container", json_string_value(json_object_get(main_c, "name")), "image",
			 json_string_value(json_object_get(main_c, "image")), "created",
			 json_string_value(json_object_get(md, "creationTimestamp")), "source_path",
			 cv_annotation(d, "sourcemode.dev/source-path"), "pods", mine);
	json_object_set_new(out, "events", evs);
	/* #18: which source mode (hostpath, sync; null for the CI image) and the ones the annotations allow */
	json_object_set_new(out, "source_mode", smode ? json_string(sourcemode_name(smode)) : json_null());
	json_object_set_new(out, "source_modes", sourcemode_allowed_json(sourcemode_allowed(
						       runner, cv_annotation(d, SOURCEMODE_ANNOTATION_MODES))));
	if (cv_annotation(d, "sourcemode.dev/control-port"))
		json_object_set_new(out, "control_port", json_string(cv_annotation(d, "sourcemode.dev/control-port")));
	return out;
}


json_t *clusterview_deployments(json_t *deployments, json_t *pods, json_t *source, json_t *events)
{
	size_t np, ne, i;
	struct by_name *pix = index_by_name(pods, "metadata", &np);
	struct by_name *eix = index_by_name(events, "involvedObject", &ne);
	json_t *out = json_array(), *d;
	json_array_foreach(deployments, i, d) {
		json_array_append_new(out, deployment_summary(d, pix, np, source, eix, ne));
	}
	free(pix);
	free(eix);
	return out;
}
