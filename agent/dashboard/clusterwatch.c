/* clusterwatch.c — the dashboard's snapshot built from three watches and a ConfigMap probe (clusterwatch.h). */
#include "clusterwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterview.h"
#include "errbuf.h"
#include "sourcestate.h"
#include "kwatch.h"

#define WATCH_TIMEOUT 300 /* timeoutSeconds of each watch request: the server ends it then, and it is renewed */

enum { CW_DEPLOYMENTS, CW_PODS, CW_EVENTS, CW_N };

struct clusterwatch {
	char *ns;
	long timeout_s;
	struct kwatch *w[CW_N];
	json_t *items[CW_N];      /* the poller's copies of the caches */
	unsigned long seen[CW_N]; /* the caches' change counts those copies are of */
	json_t *source;           /* sourcestate_from_data of the last ConfigMap read */
	char probe_err[1024];     /* the last ConfigMap read's failure, "" when it answered */
	json_t *snap;             /* the last snapshot */
};

struct clusterwatch *clusterwatch_start(const struct kube_config *kc, const char *ns, long timeout_s,
					const atomic_int *quit, void (*changed)(void *arg), void *arg, struct sm_error *err)
{
	struct clusterwatch *cw = calloc(1, sizeof *cw);
	if (!cw) {
		sm_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	cw->ns = strdup(ns);
	cw->timeout_s = timeout_s;
	cw->source = json_object();
	static const char *const fmt[CW_N] = {"/apis/apps/v1/namespaces/%s/deployments", "/api/v1/namespaces/%s/pods",
					      "/api/v1/namespaces/%s/events"};
	for (int i = 0; i < CW_N; i++) {
		char path[512];
		snprintf(path, sizeof path, fmt[i], ns);
		struct kwatch_cfg c = {.kc = kc, .path = path, .list_timeout_s = timeout_s, .watch_timeout_s = WATCH_TIMEOUT,
				      .changed = changed, .changed_arg = arg, .cancel = quit};
		cw->w[i] = kwatch_start(&c, err);
		if (!cw->w[i]) {
			clusterwatch_stop(cw);
			return NULL;
		}
	}
	return cw;
}

void clusterwatch_stop(struct clusterwatch *cw)
{
	if (!cw)
		return;
	for (int i = 0; i < CW_N; i++) {
		kwatch_stop(cw->w[i]);
		json_decref(cw->items[i]);
	}
	json_decref(cw->source);
	json_decref(cw->snap);
	free(cw->ns);
	free(cw);
}

/* The ConfigMap read: 1 when the source map changed. */
static int probe_source(struct clusterwatch *cw, struct kube *k)
{
	struct kube_req r = {.method = KUBE_GET};
	if (asprintf(&r.path, "/api/v1/namespaces/%s/configmaps/%s", cw->ns, SOURCESTATE_NAME) < 0)
		abort();
	kube_do(k, &r, 1);
	int changed = 0;
	if (r.status == 200 || r.status == 404) {
		cw->probe_err[0] = 0;
		json_t *source = sourcestate_from_data(json_object_get(r.response, "data"));
		changed = !json_equal(source, cw->source);
		json_decref(cw->source);
		cw->source = source;
	} else {
		snprintf(cw->probe_err, sizeof cw->probe_err, "%s", r.err);
	}
	kube_req_clear(&r);
	return changed;
}

json_t *clusterwatch_snapshot(struct clusterwatch *cw, struct kube *k, int probe, int fresh)
{
	int changed = !cw->snap || !json_is_null(json_object_get(cw->snap, "error"));
	if (probe)
		changed |= probe_source(cw, k);
	char err[1024] = "";
	struct sm_error e;
	if (fresh)
		for (int i = 0; i < CW_N; i++)
			kwatch_resync(cw->w[i], (double)cw->timeout_s);
	for (int i = 0; i < CW_N; i++) {
		json_t *items = kwatch_items(cw->w[i], &cw->seen[i], (double)cw->timeout_s, &e);
		if (items) {
			json_decref(cw->items[i]);
			cw->items[i] = items;
			changed = 1;
		} else if (e.msg[0] && !err[0]) {
			snprintf(err, sizeof err, "%.1023s", e.msg);
		}
	}
	if (cw->probe_err[0])
		snprintf(err, sizeof err, "%s", cw->probe_err);
	if (err[0]) {
		json_decref(cw->snap);
		cw->snap = json_pack("{s:s, s:[], s:{}, s:s}", "namespace", cw->ns, "deployments", "source", "error", err);
	} else if (changed) {
		json_decref(cw->snap);
		cw->snap = json_pack("{s:s, s:o, s:O, s:n}", "namespace", cw->ns, "deployments",
				     clusterview_deployments(cw->items[CW_DEPLOYMENTS], cw->items[CW_PODS], cw->source,
							     cw->items[CW_EVENTS]),
				     "source", cw->source, "error");
	}
	return json_incref(cw->snap);
}
