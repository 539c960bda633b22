/* kwatch.h — one collection of the API server kept in memory: listed once, then followed with a watch (as client-go's informers do), on its own thread. */
#ifndef SM_KWATCH_H
#define SM_KWATCH_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "kubeconfig.h"

/*
 * How it follows the collection (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes):
 *   1. GET PATH?limit=500 (following `continue`): the items, and the list's metadata.resourceVersion RV.
 *   2. GET PATH?watch=true&resourceVersion=RV&allowWatchBookmarks=true&timeoutSeconds=T: one JSON object
 *      per line, {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {...}}, applied to the cache as
 *      they arrive; every event (bookmarks too) moves RV on.
 *   3. The server ends the stream after T seconds, or the connection breaks: watch again from RV (no list).
 *   4. 410 Gone (an ERROR event whose Status has code 410, or an HTTP 410: RV is older than the history
 *      the server keeps) or any other refusal: list again (step 1).
 * Failures back off (250 ms doubling to 5 s, reset by a success) and are reported by kwatch_items until
 * a list or a watch succeeds again. A hung server ends a request after T + 15 s (the stream) or the list
 * timeout; a liveness check that must be quicker (the dashboard's stale badge) is the caller's own.
 *
 * Threads: kwatch_start starts one thread that owns its kube client, the stream and the cache. The
 * cache is changed only by that thread and only under the watch's mutex; kwatch_items hands the caller
 * a deep copy made under the same mutex, so no jansson value is ever shared between threads
 * (workers.h). cfg.changed runs on the watch thread, without the mutex held.
 */
struct kwatch_cfg {
	const struct kube_config *kc; /* connection (borrowed until kwatch_stop) */
	const char *path;             /* the collection, "/api/v1/namespaces/NS/pods" (copied) */
	long list_timeout_s;          /* a list request gives up after this */
	long watch_timeout_s;         /* timeoutSeconds asked of each watch request */
	void (*changed)(void *arg);   /* after the cache changed (a list, or a batch of events); may be NULL */
	void *changed_arg;
	const atomic_int *cancel;     /* nonzero: kwatch_items and kwatch_resync stop waiting (borrowed; may be NULL) */
};

/* What a watch has done so far (kwatch_counts). */
struct kwatch_counts {
	unsigned long lists;    /* lists done (the first one and every relist) */
	unsigned long watches;  /* watch requests answered 200 */
	unsigned long events;   /* ADDED/MODIFIED/DELETED applied */
	unsigned long gone;     /* 410 Gone answers (each one relisted) */
	unsigned long failures; /* requests that failed (each one backed off) */
};

struct kwatch;

/* Starts following cfg->path. Returns NULL with err filled. */
struct kwatch *kwatch_start(const struct kwatch_cfg *cfg, struct sm_error *err);
/* Ends the thread (an open stream or list is aborted at once) and frees everything. */
void kwatch_stop(struct kwatch *w);

/*
 * The items, sorted by namespace/name, as a new array (a deep copy) when the cache changed since
 * *seen (a change count, updated; start with 0), else NULL with err "". NULL with err filled when
 * the collection is not known right now (never listed yet, or the last request failed); then *seen
 * is reset, so the next success hands the items again. Waits up to wait_s seconds for the first list
 * attempt to end.
 */
json_t *kwatch_items(struct kwatch *w, unsigned long *seen, double wait_s, struct sm_error *err);
/* Lists again now (abandoning the stream) and waits up to wait_s seconds for that list: afterwards
 * the cache is at least as new as the server was when this was called. Returns 0, or -1 (timed out,
 * failed). */
int kwatch_resync(struct kwatch *w, double wait_s);
void kwatch_counts(struct kwatch *w, struct kwatch_counts *out);

/* ---- the stream parser (kwatchstream.c; pure: no I/O, no threads; fuzz/fuzz_kwatch.c drives it) */
struct kwatch_stream {
	json_t *items;        /* "NAMESPACE/NAME" -> object (owned) */
	char *rv;             /* the newest resourceVersion seen (owned; NULL = none) */
	char *buf;            /* the line received in part */
	size_t len, cap;
	unsigned long line;   /* lines received (for error positions) */
	unsigned long events; /* ADDED/MODIFIED/DELETED applied */
	int gone;             /* an ERROR event with code 410 came: list again */
	char err[512];        /* why the stream must end: "watch stream line 3, column 7: ..." or the ERROR's message */
};
/* Feeds n bytes of the stream; applies each complete line to s->items. Returns the number of
 * events applied, or -1 when the stream must end (s->err filled; s->gone set for 410). */
long kwatch_stream_feed(struct kwatch_stream *s, const char *data, size_t n);
/* The key of obj in items: "NAMESPACE/NAME" (malloc'd), NULL without a name. */
char *kwatch_key(json_t *obj);
/* Frees buf and rv (not items). */
void kwatch_stream_clear(struct kwatch_stream *s);

#endif
