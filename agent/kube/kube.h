/* kube.h — the Kubernetes API client: discovery, server-side apply, list, delete; concurrent, retrying, secret-safe.
 *
 * Layer agent/kube: talking to one API server — kubeconfig, credentials (exec plugins), discovery,
 * the HTTP client (the only files that include curl). Knows nothing of templates or sets.
 * May call: common/. */
#ifndef SM_KUBE_H
#define SM_KUBE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "diag.h"
#include "kubeconfig.h"

/* Verbs a resource supports, from discovery. */
enum {
	KUBE_VERB_GET = 1 << 0,
	KUBE_VERB_LIST = 1 << 1,
	KUBE_VERB_CREATE = 1 << 2,
	KUBE_VERB_UPDATE = 1 << 3,
	KUBE_VERB_PATCH = 1 << 4,
	KUBE_VERB_DELETE = 1 << 5,
	KUBE_VERB_WATCH = 1 << 6,
};

/* One API resource found by discovery. Owned by the client; valid until kube_free (a rediscovery keeps
 * the resources it replaced alive). */
struct kube_resource {
	char *group;       /* "" for the core group */
	char *version;     /* "v1" */
	char *api_version; /* "v1" or "apps/v1", as manifests spell it */
	char *kind;        /* "Deployment" */
	char *plural;      /* "deployments": the URL segment */
	int namespaced;    /* 1 when objects live in a namespace */
	int preferred;     /* 1 when version is the group's preferred one (list/prune only these) */
	unsigned verbs;    /* KUBE_VERB_* bits */
};

enum kube_method { KUBE_GET, KUBE_POST, KUBE_PUT, KUBE_APPLY, KUBE_MERGE_PATCH, KUBE_DELETE };

/* One request for kube_do. The caller fills method, path and body; kube_do fills the rest. */
struct kube_req {
	enum kube_method method;
	char *path;       /* "/api/v1/namespaces/x/configmaps/y?query", malloc'd, freed by kube_req_clear */
	json_t *body;     /* request body (borrowed); sent as JSON (which is YAML for apply) */
	long status;      /* HTTP status, 0 when no answer came */
	json_t *response; /* the parsed JSON answer or NULL; owned, freed by kube_req_clear */
	char err[1024];   /* on failure: "MESSAGE (HTTP 422 Invalid)" or the transport error; no secrets */
	void *data;       /* free for the caller */
	const char *accept;        /* Accept header (borrowed; NULL: application/json) */
	const char *if_none_match; /* an ETag: the server may answer 304 Not Modified (borrowed, may be NULL) */
	char etag[128];            /* the answer's ETag ("" when none) */
	char content_type[192];    /* the answer's Content-Type ("" when none) */
	const char *body_type;     /* the request body's Content-Type (borrowed; NULL: the method's JSON kind) */
};

struct kube;

/* A client for the settings in cfg (copied what it needs; cfg may be freed after). Returns NULL
 * with err filled. */
struct kube *kube_new(const struct kube_config *cfg, struct sm_error *err);
void kube_free(struct kube *k);

/* Writes (POST, PUT, PATCH, DELETE) get dryRun=All while on. */
void kube_set_dry_run(struct kube *k, int on);
/* At most n requests in flight (default 8). */
void kube_set_concurrency(struct kube *k, int n);
/* Page size for lists (default 500). */
void kube_set_page_size(struct kube *k, int n);
/* Retries on 429/5xx/transport errors (default 5 attempts), with backoff capped at max_ms. */
void kube_set_retries(struct kube *k, int attempts, int max_ms);
/* Each request gives up after timeout_s seconds (default 120), and every transfer ends as soon as
 * *cancel (borrowed; NULL = never) is nonzero: the dashboard's hung-server and Cancel paths. */
void kube_set_limits(struct kube *k, long timeout_s, const atomic_int *cancel);

/* Where the client and the code using it (sync, wait, ownership, discovery) report errors and warnings
 * (borrowed; NULL, the default: log.c). The pipeline sets the sink it was given. */
void kube_set_diag(struct kube *k, const struct diag *d);
const struct diag *kube_diag(struct kube *k);

/* Runs n requests concurrently (bounded), retrying transient failures with backoff (and the
 * server's Retry-After). Returns the number of requests that did not end in 2xx. */
size_t kube_do(struct kube *k, struct kube_req *reqs, size_t n);
void kube_req_clear(struct kube_req *r);

/* Builds "/apis/G/V[/namespaces/NS]/PLURAL[/NAME][?QUERY]" with escaping; malloc'd. */
char *kube_path(const struct kube_resource *r, const char *ns, const char *name, const char *query);

/* GET /version's gitVersion into buf; also proves connectivity and credentials. */
int kube_version(struct kube *k, char *buf, size_t buflen, struct sm_error *err);

/*
 * Learns every kind the server serves (discovery.c). Aggregated discovery (apidiscovery.k8s.io v2, then
 * v2beta1: /api and /apis, two requests) when the server offers it, else /api, /apis and one request per
 * group version. The answer is kept on disk per server (APPDEPLOY_CACHE_DIR, else
 * $XDG_CACHE_HOME/appdeploy, else ~/.cache/appdeploy; for APPDEPLOY_DISCOVERY_TTL seconds, default 6 h):
 * with a cached answer one request checks freshness (a conditional GET of /apis). Within the max age set by
 * kube_set_discovery_max_age the last answer is reused without any request. Returns 0 or -1 with err filled.
 */
int kube_discover(struct kube *k, struct sm_error *err);
/* Discovery from the server again, ignoring every cache (after CRDs became established). */
int kube_discover_refresh(struct kube *k, struct sm_error *err);
/* kube_discover reuses an answer younger than this many seconds without asking (0, the default: always
 * check). The dashboard sets its re-sync interval: one discovery per interval. */
void kube_set_discovery_max_age(struct kube *k, double seconds);
/* The resource for a manifest's apiVersion and kind, or NULL. A miss while the answer came from a cache
 * rediscovers once from the server (a kind added since). Resource pointers stay valid until kube_free. */
const struct kube_resource *kube_find(struct kube *k, const char *api_version, const char *kind);
size_t kube_resource_count(struct kube *k);
const struct kube_resource *kube_resource_at(struct kube *k, size_t i);

/*
 * Lists every object of each of the n resources in namespace ns ("" = all / cluster scope)
 * matching selector (may be NULL), following `continue` pages. On success returns 0 and items[i]
 * is a new array for resource i. On failure returns -1, err names the first failing resource and
 * items are all NULL.
 */
int kube_list_many(struct kube *k, const struct kube_resource *const *res, size_t n, const char *ns,
		   const char *selector, json_t **items, struct sm_error *err);

/*
 * Reads the n objects (res[i], names[i]) of namespace ns ("" for cluster-scoped kinds) as n GETs would:
 * reqs[i] ends with status 200 and the object as response, 404 when it does not exist, or the failure.
 * A kind with at least KUBE_GET_MANY_LIST of them is read with one (paged) list instead of one GET each
 * (list items get apiVersion and kind filled in, as a GET answers them); the rest are GETs of reqs[i].path
 * (the caller sets it, e.g. kube_path(res[i], ns, names[i], NULL)). reqs[i].data is kept. Returns the number
 * of objects that ended neither 200 nor 404.
 */
#define KUBE_GET_MANY_LIST 4
size_t kube_get_many(struct kube *k, const struct kube_resource *const *res, const char *const *names, size_t n,
		     const char *ns, struct kube_req *reqs);

/* Fetches an http(s) URL that is not the API server (e.g. the CI image list), with the system's CAs
 * and no credentials. *out is malloc'd and NUL-terminated. Returns 0, or -1 with err filled. */
int kube_fetch_url(const char *url, char **out, size_t *len, struct sm_error *err);

/* --- dashboard (#7): raw and streamed requests (pod logs, pod proxy) --- */

/* Called with each piece of the answer body (status is the HTTP status), and with data NULL, len 0
 * about every 100 ms while the transfer is idle (status 0 until the answer's headers came). Return
 * nonzero to abort the transfer. */
typedef int (*kube_stream_cb)(void *arg, long status, const char *data, size_t len);

/* The three calls below run one request alone, not retried, except that a 401 to an exec plugin's
 * credential runs the plugin again and repeats it once (as kube_do; the 401 is not passed on then). */

/* One request whose answer body is handed to cb as it arrives (a `follow=true` log
 * or a pod proxy call). method is "GET" or "POST" (POST sends an empty body). timeout_s 0 means
 * none. Returns the HTTP status (also for non-2xx), 0 when cb aborted, or -1 with err filled
 * when the server could not be reached. Blocking: call from a worker thread with its own client. */
long kube_stream(struct kube *k, const char *method, const char *path, long timeout_s, kube_stream_cb cb, void *arg,
		 struct sm_error *err);

/* devsync (#18): one POST of raw bytes through the API server (a pod proxy call to reloader's
 * /sync/), with extra "Name: value" headers (NULL-terminated list, may be NULL), not retried.
 * *out receives the answer body (malloc'd, NUL-terminated; free it). Returns the HTTP status, or
 * -1 with err filled when the server could not be reached. Blocking. */
long kube_post_raw(struct kube *k, const char *path, const char *const *headers, const char *body, size_t len,
		   long timeout_s, char **out, size_t *out_len, struct sm_error *err);

/* The next piece of a body that is still being produced: up to cap bytes into buf, 0 at its end,
 * KUBE_BODY_ABORT to end the request. May block until there is more. Called with rewind 1 (buf NULL)
 * before each attempt: the body starts again from its first byte. */
#define KUBE_BODY_ABORT ((size_t)-1)
typedef size_t (*kube_body_cb)(void *arg, int rewind, char *buf, size_t cap);

/* As kube_post_raw, but the body comes from read while it is produced (chunked over HTTP/1.1), so the far
 * end works on its first bytes while the rest is made. */
long kube_post_stream(struct kube *k, const char *path, const char *const *headers, kube_body_cb read, void *arg,
		      long timeout_s, char **out, size_t *out_len, struct sm_error *err);

/* up's local forward (#16): called with the answer's status, its Content-Type ("" until the headers came) and
 * each piece of its body as it arrives; with data NULL, len 0 about every 100 ms while idle. Nonzero aborts. */
typedef int (*kube_forward_cb)(void *arg, long status, const char *content_type, const char *data, size_t len);

/* One request passed on through the API server (a service proxy call), not retried: any method, a raw body
 * (NULL for none) of type body_type, accept as the Accept header (NULL: * / *), extra "Name: value" headers
 * (NULL-terminated, may be NULL). The answer streams to cb. timeout_s 0: none. Returns the HTTP status, 0 when
 * cb aborted, or -1 with err filled when the server could not be reached. Blocking: its own thread and client. */
long kube_forward(struct kube *k, const char *method, const char *path, const char *accept, const char *const *headers,
		  const char *body_type, const char *body, size_t len, long timeout_s, kube_forward_cb cb, void *arg,
		  struct sm_error *err);

#endif
