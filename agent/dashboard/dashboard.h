/* dashboard.h — `appdeploy serve`'s web side on the libev loop: the JSON API under /api/, server-sent events, the embedded page.
 *
 * Layer agent/dashboard: the HTTP server (http.c, the only file that includes libmicrohttpd), the
 * page's API and events, the per-set workers and the cluster view. May call: agent/deploy and
 * everything below it. */
#ifndef SM_DASHBOARD_H
#define SM_DASHBOARD_H

#include <ev.h>
#include <stddef.h>

#include "workers.h"

struct dashboard_cfg {
	struct ev_loop *loop;
	const char *listen;        /* "127.0.0.1:8090" */
	const char *token;         /* access token required on every request, or NULL */
	const char *context;       /* kubeconfig context named on the command line (for the exec hint), or NULL */
	const char *kubeconfig;    /* kubeconfig file named on the command line (absolute; for the exec hint), or NULL */
	struct workers_cfg workers; /* post/post_arg are filled by the dashboard */
	/* `appdeploy agent`: its Lease as {"holder", "self", "leading"} for /api/session and the status
	 * events (called on the loop thread; a new reference), or NULL */
	json_t *(*lease)(void *arg);
	void *lease_arg;
};

struct dashboard;

/* Listens, then starts the workers (which sync once at start). Returns NULL with err filled. */
struct dashboard *dashboard_start(const struct dashboard_cfg *cfg, struct sm_error *err);
/* The port listened on. */
int dashboard_port(struct dashboard *d);
/* Stops the workers (joined), closes every stream and the server, frees everything. */
void dashboard_stop(struct dashboard *d);

#endif
