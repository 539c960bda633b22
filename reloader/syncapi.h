/* syncapi.h — the control API's source-sync endpoints (POST /sync/manifest, POST /sync/batch), on when
 * control.sync is true and a token is configured. control.c routes /sync/ requests here. */
#ifndef RL_SYNCAPI_H
#define RL_SYNCAPI_H

#include <jansson.h>
#include <stddef.h>

#include "supervise.h"

struct watcher;
struct sync_req;

/* Limits (README "Synced source mode"). */
#define SYNC_MAX_FILE (64ULL << 20)      /* bytes in one file */
#define SYNC_MAX_BATCH (1ULL << 30)      /* bytes in one batch body */
#define SYNC_MAX_ENTRIES 50000UL         /* files + deletions in one batch */
#define SYNC_MAX_MANIFEST (32ULL << 20)  /* bytes of a manifest body */

/* How the sync module answers through its connection (control.c implements them). */
struct sync_reply_ops {
	void (*error)(void *conn, unsigned status, const char *msg);
	void (*json)(void *conn, unsigned status, json_t *j);   /* takes the reference */
	void (*wait)(void *conn, unsigned long cycle);          /* answer as POST /restart?wait=1 once cycle ends */
};

/* 1 when the request path (up to '?' or len) is under /sync/. */
int syncapi_is_path(const char *url, size_t len);

/*
 * Headers are complete (the token was checked by the caller). Returns the request, or NULL with
 * *status (404 sync off, 405, 409 another batch is running, 413) and *msg (static text) to answer
 * before reading the body.
 */
struct sync_req *syncapi_open(struct supervisor *sv, const char *url, size_t url_len, int is_post,
			      unsigned long long content_length, unsigned *status, const char **msg);
/* Body bytes. Returns 0, -1 when the body passed its limit (answer 413 and close). */
int syncapi_body(struct sync_req *r, const char *at, size_t len);
/* The body is complete: answers through ops, now or once the batch's cycle ends. */
void syncapi_finish(struct sync_req *r, const struct sync_reply_ops *ops, void *conn);
/* The connection goes away or starts its next request: frees r. An uncommitted batch is dropped
 * (the tree stays as it was); a committed one still runs its cycle, unanswered. NULL is fine. */
void syncapi_close(struct sync_req *r);

/* The watcher whose events for files the sync wrote are folded into the sync's own cycle. */
void syncapi_use_watcher(struct watcher *w);

#endif
