/* status.h — what GET /status and GET /metrics say about the supervisor. */
#ifndef RL_STATUS_H
#define RL_STATUS_H

#include <jansson.h>
#include <stdio.h>

#include "supervise.h"

/* Adds the watcher's part ("watch": {...}) to a status object; set by the watcher when it runs. */
extern void (*status_watch_hook)(json_t *watch, void *ctx);
extern void *status_watch_ctx;
/* Adds the watcher's metrics lines (same ctx). */
extern void (*status_watch_metrics_hook)(FILE *f, void *ctx);

/* A new JSON object: state, pid, restarts, build{...}, last_restart{...}, watch{...}, ... */
json_t *status_json(struct supervisor *sv);

/* Prometheus text exposition; malloc'd, caller frees. */
char *status_metrics(struct supervisor *sv);

/* /status for people: the same fields as "key: value" lines (build.ok: true). Caller frees. */
char *status_text(json_t *status);

#endif
