/* kube.c — the Kubernetes API client over libcurl's multi interface (the only file that includes curl). */
#include "kube.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"

struct kube {
	struct kube_config cfg; /* our own copy of the strings we need (secrets included) */
	CURLM *multi;
	CURLSH *share;          /* shared connection cache across easy handles */
	int dry_run;
	int concurrency;
	int page_size;
	int attempts;
	int backoff_max_ms;
	struct kube_resource *res;
	size_t nres;
};

/* Per-request transfer state while it is in kube_do. */
struct xfer {
	struct kube_req *req;
	CURL *easy;
	struct curl_slist *headers;
	char *body;      /* serialized request body */
	char *resp;      /* response bytes */
	size_t resp_len, resp_cap;
	long retry_after; /* seconds from Retry-After, -1 when absent */
	int attempt;
	double not_before; /* monotonic seconds: earliest start of the next attempt */
	int state;         /* 0 waiting, 1 running, 2 done */
	char curl_err[CURL_ERROR_SIZE];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *dup_n(const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static char *xdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct kube *kube_new(const struct kube_config *cfg, char *err, size_t errlen)
{
	static int curl_ready;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			set_err(err, errlen, "cannot initialise libcurl");
			return NULL;
		}
		curl_ready = 1;
	}
	struct kube *k = calloc(1, sizeof *k);
	if (!k) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	struct kube_config *c = &k->cfg;
	c->context = xdup(cfg->context);
	c->server = xdup(cfg->server);
	c->namespace = xdup(cfg->namespace);
	c->ca_file = xdup(cfg->ca_file);
	c->ca_data = dup_n(cfg->ca_data, cfg->ca_data_len);
	c->ca_data_len = cfg->ca_data_len;
	c->insecure = cfg->insecure;
	c->token = xdup(cfg->token);
	c->token_file = xdup(cfg->token_file);
	c->cert_file = xdup(cfg->cert_file);
	c->key_file = xdup(cfg->key_file);
	c->cert_data = dup_n(cfg->cert_data, cfg->cert_data_len);
	c->cert_data_len = cfg->cert_data_len;
	c->key_data = dup_n(cfg->key_data, cfg->key_data_len);
	c->key_data_len = cfg->key_data_len;
	c->username = xdup(cfg->username);
	c->password = xdup(cfg->password);
	c->in_cluster = cfg->in_cluster;
	k->multi = curl_multi_init();
	k->share = curl_share_init();
	if (!k->multi || !k->share || !c->server) {
		set_err(err, errlen, "cannot create the HTTP client");
		kube_free(k);
		return NULL;
	}
	curl_share_setopt(k->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(k->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	k->concurrency = 8;
	k->page_size = 500;
	k->attempts = 5;
	k->backoff_max_ms = 4000;
	return k;
}

static void free_resources(struct kube *k)
{
	for (size_t i = 0; i < k->nres; i++) {
		struct kube_resource *r = &k->res[i];
		free(r->group);
		free(r->version);
		free(r->api_version);
		free(r->kind);
		free(r->plural);
	}
	free(k->res);
	k->res = NULL;
	k->nres = 0;
}

void kube_free(struct kube *k)
{
	if (!k)
		return;
	free_resources(k);
	if (k->multi)
		curl_multi_cleanup(k->multi);
	if (k->share)
		curl_share_cleanup(k->share);
	kubeconfig_free(&k->cfg);
	free(k);
}

void kube_set_dry_run(struct kube *k, int on)
{
	k->dry_run = on;
}

void kube_set_concurrency(struct kube *k, int n)
{
	k->concurrency = n > 0 ? n : 1;
}

void kube_set_page_size(struct kube *k, int n)
{
	k->page_size = n > 0 ? n : 500;
}

void kube_set_retries(struct kube *k, int attempts, int max_ms)
{
	k->attempts = attempts > 0 ? attempts : 1;
	k->backoff_max_ms = max_ms > 0 ? max_ms : 1;
}

void kube_req_clear(struct kube_req *r)
{
	free(r->path);
	json_decref(r->response);
	r->path = NULL;
	r->response = NULL;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (x->resp_len + n + 1 > x->resp_cap) {
		size_t cap = x->resp_cap ? x->resp_cap : 4096;
		while (cap < x->resp_len + n + 1)
			cap *= 2;
		char *nb = realloc(x->resp, cap);
		if (!nb)
			return 0;
		x->resp = nb;
		x->resp_cap = cap;
	}
	memcpy(x->resp + x->resp_len, ptr, n);
	x->resp_len += n;
	x->resp[x->resp_len] = 0;
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (n > 12 && !strncasecmp(ptr, "Retry-After:", 12)) {
		char tmp[32];
		size_t m = n - 12 < sizeof tmp - 1 ? n - 12 : sizeof tmp - 1;
		memcpy(tmp, ptr + 12, m);
		tmp[m] = 0;
		char *end;
		long v = strtol(tmp, &end, 10);
		if (end != tmp && v >= 0)
			x->retry_after = v;
	}
	return n;
}

static const char *method_name(enum kube_method m)
{
	switch (m) {
	case KUBE_GET: return "GET";
	case KUBE_POST: return "POST";
	case KUBE_PUT: return "PUT";
	case KUBE_APPLY:
	case KUBE_MERGE_PATCH: return "PATCH";
	case KUBE_DELETE: return "DELETE";
	}
	return "GET";
}

/* Sets up one attempt of x. Returns 0 or -1 (x->req->err filled). */
static int xfer_start(struct kube *k, struct xfer *x, const char *token)
{
	struct kube_req *r = x->req;
	struct kube_config *c = &k->cfg;
	x->easy = curl_easy_init();
	if (!x->easy) {
		set_err(r->err, sizeof r->err, "cannot create an HTTP request");
		return -1;
	}
	x->resp_len = 0;
	x->retry_after = -1;
	x->curl_err[0] = 0;
	char *url;
	int write = r->method != KUBE_GET;
	const char *sep = strchr(r->path, '?') ? "&" : "?";
	if (asprintf(&url, "%s%s%s", c->server, r->path, write && k->dry_run ? (sep[0] == '&' ? "&dryRun=All" : "?dryRun=All") : "") < 0)
		return -1;
	CURL *e = x->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_SHARE, k->share);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method_name(r->method));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "appdeploy/0.1");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (c->ca_data) {
		struct curl_blob b = {.data = c->ca_data, .len = c->ca_data_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	} else if (c->ca_file) {
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	}
	if (c->cert_data) {
		struct curl_blob b = {.data = c->cert_data, .len = c->cert_data_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->cert_file) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
	}
	if (c->key_data) {
		struct curl_blob b = {.data = c->key_data, .len = c->key_data_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->key_file) {
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
	}
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	if (token) {
		char *auth;
		if (asprintf(&auth, "Authorization: Bearer %s", token) >= 0) {
			h = curl_slist_append(h, auth);
			explicit_bzero(auth, strlen(auth));
			free(auth);
		}
	} else if (c->username && c->password) {
		curl_easy_setopt(e, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
	}
	if (r->body || r->method == KUBE_POST || r->method == KUBE_PUT || r->method == KUBE_APPLY ||
	    r->method == KUBE_MERGE_PATCH) {
		const char *ct = r->method == KUBE_APPLY	 ? "Content-Type: application/apply-patch+yaml"
				 : r->method == KUBE_MERGE_PATCH ? "Content-Type: application/merge-patch+json"
								 : "Content-Type: application/json";
		h = curl_slist_append(h, ct);
		if (!x->body)
			x->body = r->body ? json_dumps(r->body, JSON_COMPACT) : strdup("{}");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
	}
	h = curl_slist_append(h, "Expect:");
	x->headers = h;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	if (curl_multi_add_handle(k->multi, e) != CURLM_OK) {
		set_err(r->err, sizeof r->err, "cannot start an HTTP request");
		return -1;
	}
	x->state = 1;
	return 0;
}

static void xfer_end(struct kube *k, struct xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(k->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	if (x->headers) {
		/* the Authorization header holds the token: wipe before freeing */
		for (struct curl_slist *s = x->headers; s; s = s->next)
			explicit_bzero(s->data, strlen(s->data));
		curl_slist_free_all(x->headers);
		x->headers = NULL;
	}
}

/* Words a non-2xx answer: the Status message when there is one, with the code and reason. */
static void describe_failure(struct kube *k, struct kube_req *r)
{
	const char *msg = NULL, *reason = NULL;
	if (json_is_object(r->response) && !strcmp(json_string_value(json_object_get(r->response, "kind")) ?: "", "Status")) {
		msg = json_string_value(json_object_get(r->response, "message"));
		reason = json_string_value(json_object_get(r->response, "reason"));
	}
	static const struct {
		long code;
		const char *reason, *hint;
	} known[] = {
		{400, "BadRequest", "the server rejected the request"},
		{401, "Unauthorized", "the server did not accept our credentials"},
		{403, "Forbidden", "our credentials are not allowed to do this"},
		{404, "NotFound", "not found"},
		{405, "MethodNotAllowed", "method not allowed"},
		{409, "Conflict", "conflict"},
		{410, "Expired", "the list continuation expired"},
		{415, "UnsupportedMediaType", "unsupported media type"},
		{422, "Invalid", "the object is invalid"},
		{429, "TooManyRequests", "the server is throttling requests"},
		{500, "InternalError", "the server failed"},
		{503, "ServiceUnavailable", "the server is unavailable"},
	};
	const char *hint = "unexpected answer";
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i].code == r->status) {
			hint = known[i].hint;
			if (!reason)
				reason = known[i].reason;
		}
	if (r->status == 401)
		set_err(r->err, sizeof r->err, "%s%s%s (HTTP 401 Unauthorized; check the token or client certificate of context \"%s\")",
			hint, msg && strcmp(msg, "Unauthorized") ? ": " : "", msg && strcmp(msg, "Unauthorized") ? msg : "",
			k->cfg.context ?: "?");
	else
		set_err(r->err, sizeof r->err, "%s (HTTP %ld%s%s)", msg && *msg ? msg : hint, r->status, reason ? " " : "",
			reason ?: "");
}

static int transient_status(long s)
{
	return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static int transient_curl(CURLcode c)
{
	return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_SEND_ERROR ||
	       c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE;
}

/* Finishes one attempt: either done (state 2) or scheduled for a retry (state 0). */
static void xfer_done(struct kube *k, struct xfer *x, CURLcode code)
{
	struct kube_req *r = x->req;
	long status = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	xfer_end(k, x);
	x->attempt++;
	int transient = code != CURLE_OK ? transient_curl(code) : transient_status(status);
	if (transient && x->attempt < k->attempts) {
		double delay = 0.1 * (double)(1 << (x->attempt - 1));
		if (x->retry_after >= 0)
			delay = (double)x->retry_after;
		if (delay > k->backoff_max_ms / 1000.0)
			delay = k->backoff_max_ms / 1000.0;
		log_debug("%s %s: %s, retry %d in %.1fs", method_name(r->method), r->path,
			  code != CURLE_OK ? curl_easy_strerror(code) : "transient status", x->attempt, delay);
		x->not_before = now_s() + delay;
		x->state = 0;
		return;
	}
	x->state = 2;
	r->status = code == CURLE_OK ? status : 0;
	json_decref(r->response);
	r->response = NULL;
	if (x->resp_len) {
		r->response = json_loadb(x->resp, x->resp_len, 0, NULL);
	}
	if (code != CURLE_OK) {
		set_err(r->err, sizeof r->err, "cannot reach %s: %s", k->cfg.server,
			x->curl_err[0] ? x->curl_err : curl_easy_strerror(code));
	} else if (status < 200 || status > 299) {
		describe_failure(k, r);
	} else {
		r->err[0] = 0;
	}
}

size_t kube_do(struct kube *k, struct kube_req *reqs, size_t n)
{
	if (!n)
		return 0;
	char *token = NULL;
	char terr[512];
	if (kubeconfig_token(&k->cfg, &token, terr, sizeof terr)) {
		for (size_t i = 0; i < n; i++) {
			reqs[i].status = 0;
			snprintf(reqs[i].err, sizeof reqs[i].err, "%s", terr);
		}
		return n;
	}
	struct xfer *xs = calloc(n, sizeof *xs);
	if (!xs) {
		free(token);
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		xs[i].req = &reqs[i];
		reqs[i].status = 0;
		reqs[i].err[0] = 0;
	}
	size_t done = 0, running = 0;
	while (done < n) {
		double t = now_s(), next_wake = t + 1;
		for (size_t i = 0; i < n && running < (size_t)k->concurrency; i++) {
			if (xs[i].state != 0)
				continue;
			if (xs[i].not_before > t) {
				if (xs[i].not_before < next_wake)
					next_wake = xs[i].not_before;
				continue;
			}
			if (xfer_start(k, &xs[i], token)) {
				xfer_end(k, &xs[i]);
				xs[i].state = 2;
				done++;
				continue;
			}
			running++;
		}
		for (size_t i = 0; i < n; i++)
			if (xs[i].state == 0 && xs[i].not_before < next_wake)
				next_wake = xs[i].not_before;
		int still;
		curl_multi_perform(k->multi, &still);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(k->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct xfer *x;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			CURLcode code = m->data.result;
			running--;
			xfer_done(k, x, code);
			if (x->state == 2)
				done++;
		}
		if (done >= n)
			break;
		int wait_ms = (int)((next_wake - now_s()) * 1000);
		if (wait_ms < 0)
			wait_ms = 0;
		if (running)
			curl_multi_poll(k->multi, NULL, 0, wait_ms > 200 ? 200 : wait_ms, NULL);
		else if (wait_ms > 0) {
			struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	size_t failed = 0;
	for (size_t i = 0; i < n; i++) {
		xfer_end(k, &xs[i]);
		free(xs[i].body);
		free(xs[i].resp);
		if (reqs[i].status < 200 || reqs[i].status > 299)
			failed++;
	}
	free(xs);
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return failed;
}

/* Percent-escapes a path segment or query value (RFC 3986 unreserved kept). */
static void esc_append(char **buf, size_t *len, size_t *cap, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (*len + 4 >= *cap) {
			*cap = *cap * 2 + 64;
			*buf = realloc(*buf, *cap);
		}
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':')
			(*buf)[(*len)++] = (char)c;
		else
			*len += (size_t)sprintf(*buf + *len, "%%%02X", c);
	}
	(*buf)[*len] = 0;
}

static void raw_append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 >= *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

char *kube_path(const struct kube_resource *r, const char *ns, const char *name, const char *query)
{
	size_t len = 0, cap = 128;
	char *b = malloc(cap);
	b[0] = 0;
	raw_append(&b, &len, &cap, r->group[0] ? "/apis/" : "/api");
	if (r->group[0])
		esc_append(&b, &len, &cap, r->group);
	raw_append(&b, &len, &cap, "/");
	esc_append(&b, &len, &cap, r->version);
	if (r->namespaced && ns && *ns) {
		raw_append(&b, &len, &cap, "/namespaces/");
		esc_append(&b, &len, &cap, ns);
	}
	raw_append(&b, &len, &cap, "/");
	esc_append(&b, &len, &cap, r->plural);
	if (name) {
		raw_append(&b, &len, &cap, "/");
		esc_append(&b, &len, &cap, name);
	}
	if (query && *query) {
		raw_append(&b, &len, &cap, "?");
		raw_append(&b, &len, &cap, query);
	}
	return b;
}

static int get_one(struct kube *k, const char *path, json_t **out, char *err, size_t errlen)
{
	struct kube_req r = {.method = KUBE_GET, .path = strdup(path)};
	kube_do(k, &r, 1);
	if (r.status != 200) {
		set_err(err, errlen, "GET %s: %s", path, r.err);
		kube_req_clear(&r);
		return -1;
	}
	*out = r.response;
	r.response = NULL;
	kube_req_clear(&r);
	return 0;
}

int kube_version(struct kube *k, char *buf, size_t buflen, char *err, size_t errlen)
{
	json_t *v;
	if (get_one(k, "/version", &v, err, errlen))
		return -1;
	snprintf(buf, buflen, "%s", json_string_value(json_object_get(v, "gitVersion")) ?: "unknown");
	json_decref(v);
	return 0;
}

static unsigned parse_verbs(json_t *verbs)
{
	static const struct {
		const char *name;
		unsigned bit;
	} map[] = {{"get", KUBE_VERB_GET},	 {"list", KUBE_VERB_LIST},     {"create", KUBE_VERB_CREATE},
		   {"update", KUBE_VERB_UPDATE}, {"patch", KUBE_VERB_PATCH},   {"delete", KUBE_VERB_DELETE},
		   {"watch", KUBE_VERB_WATCH}};
	unsigned bits = 0;
	size_t i;
	json_t *v;
	json_array_foreach(verbs, i, v) {
		for (size_t j = 0; j < sizeof map / sizeof map[0]; j++)
			if (json_is_string(v) && !strcmp(json_string_value(v), map[j].name))
				bits |= map[j].bit;
	}
	return bits;
}

static void add_resources(struct kube *k, const char *group, const char *version, int preferred, json_t *list)
{
	json_t *arr = json_object_get(list, "resources");
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *kind = json_string_value(json_object_get(e, "kind"));
		if (!name || !kind || strchr(name, '/'))
			continue; /* subresources (deployments/status) are not kinds of their own */
		struct kube_resource *nr = realloc(k->res, (k->nres + 1) * sizeof *nr);
		if (!nr)
			return;
		k->res = nr;
		struct kube_resource *r = &k->res[k->nres++];
		r->group = strdup(group);
		r->version = strdup(version);
		if (*group) {
			if (asprintf(&r->api_version, "%s/%s", group, version) < 0)
				r->api_version = NULL;
		} else {
			r->api_version = strdup(version);
		}
		r->kind = strdup(kind);
		r->plural = strdup(name);
		r->namespaced = json_is_true(json_object_get(e, "namespaced"));
		r->preferred = preferred;
		r->verbs = parse_verbs(json_object_get(e, "verbs"));
	}
}

int kube_discover(struct kube *k, char *err, size_t errlen)
{
	free_resources(k);
	json_t *core, *groups;
	if (get_one(k, "/api", &core, err, errlen))
		return -1;
	if (get_one(k, "/apis", &groups, err, errlen)) {
		json_decref(core);
		return -1;
	}
	/* one request per group version, run concurrently */
	size_t cap = 16, n = 0;
	struct kube_req *reqs = calloc(cap, sizeof *reqs);
	struct gv {
		char *group, *version;
		int preferred;
	} *gvs = calloc(cap, sizeof *gvs);
	size_t i, j;
	json_t *v, *g;
	json_array_foreach(json_object_get(core, "versions"), i, v) {
		if (!json_is_string(v))
			continue;
		if (n == cap) {
			cap *= 2;
			reqs = realloc(reqs, cap * sizeof *reqs);
			gvs = realloc(gvs, cap * sizeof *gvs);
		}
		memset(&reqs[n], 0, sizeof reqs[n]);
		reqs[n].method = KUBE_GET;
		if (asprintf(&reqs[n].path, "/api/%s", json_string_value(v)) < 0)
			reqs[n].path = NULL;
		gvs[n] = (struct gv){strdup(""), strdup(json_string_value(v)), i == 0};
		n++;
	}
	json_array_foreach(json_object_get(groups, "groups"), i, g) {
		const char *gname = json_string_value(json_object_get(g, "name"));
		const char *pref = json_string_value(json_object_get(json_object_get(g, "preferredVersion"), "version"));
		json_array_foreach(json_object_get(g, "versions"), j, v) {
			const char *ver = json_string_value(json_object_get(v, "version"));
			if (!gname || !ver)
				continue;
			if (n == cap) {
				cap *= 2;
				reqs = realloc(reqs, cap * sizeof *reqs);
				gvs = realloc(gvs, cap * sizeof *gvs);
			}
			memset(&reqs[n], 0, sizeof reqs[n]);
			reqs[n].method = KUBE_GET;
			if (asprintf(&reqs[n].path, "/apis/%s/%s", gname, ver) < 0)
				reqs[n].path = NULL;
			gvs[n] = (struct gv){strdup(gname), strdup(ver), pref ? !strcmp(pref, ver) : j == 0};
			n++;
		}
	}
	json_decref(core);
	json_decref(groups);
	kube_do(k, reqs, n);
	int rc = 0;
	for (i = 0; i < n; i++) {
		/* a broken aggregated API (503) must not stop us; kubectl also only warns */
		if (reqs[i].status == 200)
			add_resources(k, gvs[i].group, gvs[i].version, gvs[i].preferred, reqs[i].response);
		else if (reqs[i].status == 401 || reqs[i].status == 403) {
			if (!rc)
				set_err(err, errlen, "discovery %s: %s", reqs[i].path, reqs[i].err);
			rc = -1;
		} else
			log_warn("discovery %s: %s", reqs[i].path, reqs[i].err);
		kube_req_clear(&reqs[i]);
		free(gvs[i].group);
		free(gvs[i].version);
	}
	free(reqs);
	free(gvs);
	return rc;
}

const struct kube_resource *kube_find(struct kube *k, const char *api_version, const char *kind)
{
	for (size_t i = 0; i < k->nres; i++)
		if (!strcmp(k->res[i].api_version, api_version) && !strcmp(k->res[i].kind, kind))
			return &k->res[i];
	return NULL;
}

size_t kube_resource_count(struct kube *k)
{
	return k->nres;
}

const struct kube_resource *kube_resource_at(struct kube *k, size_t i)
{
	return i < k->nres ? &k->res[i] : NULL;
}

static char *list_path(struct kube *k, const struct kube_resource *r, const char *ns, const char *selector,
		       const char *cont)
{
	size_t len = 0, cap = 128;
	char *q = malloc(cap);
	len = (size_t)snprintf(q, cap, "limit=%d", k->page_size);
	if (selector && *selector) {
		raw_append(&q, &len, &cap, "&labelSelector=");
		esc_append(&q, &len, &cap, selector);
	}
	if (cont && *cont) {
		raw_append(&q, &len, &cap, "&continue=");
		esc_append(&q, &len, &cap, cont);
	}
	char *p = kube_path(r, ns, NULL, q);
	free(q);
	return p;
}

int kube_list_many(struct kube *k, const struct kube_resource *const *res, size_t n, const char *ns,
		   const char *selector, json_t **items, char *err, size_t errlen)
{
	struct kube_req *reqs = calloc(n ? n : 1, sizeof *reqs);
	size_t *idx = calloc(n ? n : 1, sizeof *idx);
	size_t pending = n;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		items[i] = json_array();
		idx[i] = i;
		reqs[i].method = KUBE_GET;
		reqs[i].path = list_path(k, res[i], ns, selector, NULL);
	}
	while (pending && !rc) {
		kube_do(k, reqs, pending);
		size_t next = 0;
		for (size_t j = 0; j < pending; j++) {
			struct kube_req *r = &reqs[j];
			size_t i = idx[j];
			if (r->status != 200) {
				if (!rc)
					set_err(err, errlen, "list %s: %s", res[i]->plural, r->err);
				rc = -1;
				kube_req_clear(r);
				continue;
			}
			json_array_extend(items[i], json_object_get(r->response, "items"));
			const char *cont = json_string_value(json_object_get(json_object_get(r->response, "metadata"), "continue"));
			char *np = cont && *cont ? list_path(k, res[i], ns, selector, cont) : NULL;
			kube_req_clear(r);
			if (np) {
				reqs[next] = (struct kube_req){.method = KUBE_GET, .path = np};
				idx[next] = i;
				next++;
			}
		}
		if (rc)
			for (size_t j = 0; j < next; j++)
				kube_req_clear(&reqs[j]);
		pending = next;
	}
	free(reqs);
	free(idx);
	if (rc)
		for (size_t i = 0; i < n; i++) {
			json_decref(items[i]);
			items[i] = NULL;
		}
	return rc;
}

int kube_fetch_url(const char *url, char **out, size_t *len, char *err, size_t errlen)
{
	*out = NULL;
	CURL *e = curl_easy_init();
	if (!e) {
		set_err(err, errlen, "cannot create an HTTP request");
		return -1;
	}
	struct xfer x = {.retry_after = -1};
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x.curl_err);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "appdeploy/0.1");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode code = curl_easy_perform(e);
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	if (code != CURLE_OK) {
		set_err(err, errlen, "%s", x.curl_err[0] ? x.curl_err : curl_easy_strerror(code));
		free(x.resp);
		return -1;
	}
	if (status != 200) {
		set_err(err, errlen, "HTTP %ld", status);
		free(x.resp);
		return -1;
	}
	*out = x.resp ? x.resp : strdup("");
	*len = x.resp_len;
	return 0;
}

/* --- dashboard (#7): kube_stream --- */

struct stream_ctx {
	struct xfer *x;
	kube_stream_cb cb;
	void *arg;
	int aborted;
};

static size_t on_stream_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct stream_ctx *s = ud;
	long status = 0;
	curl_easy_getinfo(s->x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (s->cb(s->arg, status, ptr, size * nmemb)) {
		s->aborted = 1;
		return 0; /* CURLE_WRITE_ERROR ends the transfer */
	}
	return size * nmemb;
}

static int on_stream_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct stream_ctx *s = ud;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (s->cb(s->arg, 0, NULL, 0)) {
		s->aborted = 1;
		return 1;
	}
	return 0;
}

long kube_stream(struct kube *k, const char *method, const char *path, long timeout_s, kube_stream_cb cb, void *arg,
		 char *err, size_t errlen)
{
	struct kube_req r = {.method = strcmp(method, "POST") ? KUBE_GET : KUBE_POST, .path = strdup(path)};
	struct xfer x = {.req = &r};
	struct stream_ctx s = {.x = &x, .cb = cb, .arg = arg};
	char *token = NULL;
	long rc = -1;
	if (!r.path || kubeconfig_token(&k->cfg, &token, err, errlen)) {
		free(r.path);
		return -1;
	}
	if (xfer_start(k, &x, token)) {
		set_err(err, errlen, "%s", r.err);
		goto out;
	}
	/* xfer_start prepared the handle for kube_do's multi: run it alone instead, streaming. */
	curl_multi_remove_handle(k->multi, x.easy);
	curl_easy_setopt(x.easy, CURLOPT_WRITEFUNCTION, on_stream_body);
	curl_easy_setopt(x.easy, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(x.easy, CURLOPT_XFERINFOFUNCTION, on_stream_progress);
	curl_easy_setopt(x.easy, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(x.easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(x.easy, CURLOPT_TIMEOUT, timeout_s);
	CURLcode code = curl_easy_perform(x.easy);
	long status = 0;
	curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &status);
	if (s.aborted)
		rc = 0;
	else if (code != CURLE_OK && !status)
		set_err(err, errlen, "cannot reach %s: %s", k->cfg.server, x.curl_err[0] ? x.curl_err : curl_easy_strerror(code));
	else
		rc = status ? status : -1;
	if (rc < 0 && status)
		set_err(err, errlen, "%s", x.curl_err[0] ? x.curl_err : curl_easy_strerror(code));
out:
	/* xfer_end removes from the multi again (harmless) and wipes the token header */
	xfer_end(k, &x);
	free(x.body);
	free(r.path);
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return rc;
}

long kube_post_raw(struct kube *k, const char *path, const char *const *headers, const char *body, size_t len,
		   long timeout_s, char **out, size_t *out_len, char *err, size_t errlen)
{
	struct kube_req r = {.method = KUBE_POST, .path = strdup(path)};
	struct xfer x = {.req = &r, .body = strdup("")}; /* xfer_start leaves a body it is given alone */
	char *token = NULL;
	long rc = -1, status = 0;
	CURLcode code;

	*out = NULL;
	*out_len = 0;
	if (!r.path || !x.body || kubeconfig_token(&k->cfg, &token, err, errlen))
		goto out;
	if (xfer_start(k, &x, token)) {
		set_err(err, errlen, "%s", r.err);
		goto out;
	}
	curl_multi_remove_handle(k->multi, x.easy); /* run alone, blocking */
	for (size_t i = 0; headers && headers[i]; i++)
		x.headers = curl_slist_append(x.headers, headers[i]);
	curl_easy_setopt(x.easy, CURLOPT_HTTPHEADER, x.headers);
	curl_easy_setopt(x.easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(x.easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(x.easy, CURLOPT_TIMEOUT, timeout_s);
	code = curl_easy_perform(x.easy);
	curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK && !status) {
		set_err(err, errlen, "cannot reach %s: %s", k->cfg.server, x.curl_err[0] ? x.curl_err : curl_easy_strerror(code));
		goto out;
	}
	rc = status;
	*out = malloc(x.resp_len + 1);
	if (*out) {
		if (x.resp_len)
			memcpy(*out, x.resp, x.resp_len);
		(*out)[x.resp_len] = 0;
		*out_len = x.resp_len;
	}
out:
	xfer_end(k, &x);
	free(x.body);
	free(x.resp);
	free(r.path);
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return rc;
}
