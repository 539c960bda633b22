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

#include "discovery.h"
#include "duration.h"
#include "errbuf.h"
#include "execcred.h"
#include "log.h"
#include "version.h"

struct kube {
	struct kube_config cfg; /* our own copy of the strings we need (secrets included) */
	CURLM *multi;
	CURLSH *share;          /* shared connection cache across easy handles */
	int dry_run;
	int concurrency;
	int page_size;
	int attempts;
	int backoff_max_ms;
	char *url_base;   /* scheme://host:port[/prefix] requests go to (tls-server-name swaps the host in) */
	char *connect_to; /* CURLOPT_CONNECT_TO entry for tls-server-name ("NAME:PORT:HOST:PORT"), or NULL */
	struct kube_discovery *disc; /* discovery.c's state */
	long timeout_s;           /* per-request deadline (kube_set_limits) */
	const atomic_int *cancel; /* ends transfers when nonzero (kube_set_limits), or NULL */
	const struct diag *diag;  /* kube_set_diag (borrowed), or NULL: log.c */
};

/* The credentials of one round of requests: a bearer token, or a client certificate from an exec
 * plugin (else the kubeconfig's own certificate applies). */
struct auth {
	char *token;
	struct execcred exec; /* filled when the user has an exec plugin */
	int from_exec;
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
	struct curl_slist *connect_to;
	char etag[128], content_type[192];
	char curl_err[CURL_ERROR_SIZE];
};

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

/* The base URL requests go to and, with tls-server-name, the CONNECT_TO entry that keeps connecting to the
 * real host while the URL's host (what curl sends as SNI and checks the certificate against) is that name. */
static int server_urls(const char *server, const char *sni, char **base, char **connect_to)
{
	*connect_to = NULL;
	if (!sni || !*sni) {
		*base = strdup(server);
		return *base ? 0 : -1;
	}
	const char *hs = strstr(server, "://");
	if (!hs)
		return -1;
	hs += 3;
	const char *he = hs + strcspn(hs, "/?#");
	const char *colon = NULL;
	for (const char *q = hs; q < he; q++)
		if (*q == ':')
			colon = q;
	if (colon && *hs == '[' && memchr(colon, ']', (size_t)(he - colon)))
		colon = NULL; /* the colon was inside [v6] */
	int https = !strncmp(server, "https", 5);
	char port[16];
	snprintf(port, sizeof port, "%.*s", colon ? (int)(he - colon - 1) : 0, colon ? colon + 1 : "");
	if (!*port)
		snprintf(port, sizeof port, "%s", https ? "443" : "80");
	int hl = (int)((colon ? colon : he) - hs);
	if (asprintf(base, "%.*s%s:%s%s", (int)(hs - server), server, sni, port, he) < 0)
		return -1;
	if (asprintf(connect_to, "%s:%s:%.*s:%s", sni, port, hl, hs, port) < 0) {
		free(*base);
		return -1;
	}
	return 0;
}

struct kube_discovery **kube_discovery_slot(struct kube *k)
{
	return &k->disc;
}

const struct kube_config *kube_config_of(struct kube *k)
{
	return &k->cfg;
}

struct kube *kube_new(const struct kube_config *cfg, struct sm_error *err)
{
	/* curl_global_init runs once in main, before any thread (it is not thread-safe) */
	struct kube *k = calloc(1, sizeof *k);
	if (!k) {
		sm_error_set(err, NULL, 0, 0, "out of memory");
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
	c->cluster = xdup(cfg->cluster);
	c->user = xdup(cfg->user);
	c->proxy_url = xdup(cfg->proxy_url);
	c->tls_server_name = xdup(cfg->tls_server_name);
	c->disable_compression = cfg->disable_compression;
	c->exec = kube_exec_dup(cfg->exec);
	if (c->server && server_urls(c->server, c->tls_server_name, &k->url_base, &k->connect_to)) {
		sm_error_set(err, NULL, 0, 0, "cannot use server %s with tls-server-name %s", c->server, c->tls_server_name);
		kube_free(k);
		return NULL;
	}
	k->multi = curl_multi_init();
	k->share = curl_share_init();
	if (!k->multi || !k->share || !c->server) {
		sm_error_set(err, NULL, 0, 0, "cannot create the HTTP client");
		kube_free(k);
		return NULL;
	}
	curl_share_setopt(k->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(k->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	/* the connections too: a request run alone (kube_post_raw, a pod proxy poke) reuses the one kube_do
	 * opened, instead of a new TCP and TLS handshake each (one client is one thread's: no locks) */
	curl_share_setopt(k->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	k->concurrency = 8;
	k->page_size = 500;
	k->attempts = 5;
	k->backoff_max_ms = 4000;
	k->timeout_s = 120;
	return k;
}

void kube_free(struct kube *k)
{
	if (!k)
		return;
	kube_discovery_free(k->disc);
	free(k->url_base);
	free(k->connect_to);
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

void kube_set_limits(struct kube *k, long timeout_s, const atomic_int *cancel)
{
	k->timeout_s = timeout_s > 0 ? timeout_s : 120;
	k->cancel = cancel;
}

void kube_set_diag(struct kube *k, const struct diag *d) { k->diag = d; }

const struct diag *kube_diag(struct kube *k) { return k->diag; }

/* libcurl's progress hook: a nonzero return ends the transfer (CURLE_ABORTED_BY_CALLBACK). */
static int cancel_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const struct kube *k = arg;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(k->cancel) != 0;
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

/* Copies a header's value without surrounding blanks and the line end. */
static void header_value(const char *v, size_t n, char *out, size_t cap)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = 0;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (n > 5 && !strncasecmp(ptr, "ETag:", 5))
		header_value(ptr + 5, n - 5, x->etag, sizeof x->etag);
	else if (n > 13 && !strncasecmp(ptr, "Content-Type:", 13))
		header_value(ptr + 13, n - 13, x->content_type, sizeof x->content_type);
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
static int xfer_start(struct kube *k, struct xfer *x, const struct auth *au)
{
	const char *token = au ? au->token : NULL;
	struct kube_req *r = x->req;
	struct kube_config *c = &k->cfg;
	x->easy = curl_easy_init();
	if (!x->easy) {
		errbuf_set(r->err, sizeof r->err, "cannot create an HTTP request");
		return -1;
	}
	x->resp_len = 0;
	x->retry_after = -1;
	x->curl_err[0] = 0;
	x->etag[0] = x->content_type[0] = 0;
	char *url;
	int write = r->method != KUBE_GET;
	const char *sep = strchr(r->path, '?') ? "&" : "?";
	if (asprintf(&url, "%s%s%s", k->url_base, r->path, write && k->dry_run ? (sep[0] == '&' ? "&dryRun=All" : "?dryRun=All") : "") < 0)
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
	curl_easy_setopt(e, CURLOPT_TIMEOUT, k->timeout_s);
	if (k->cancel) {
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, cancel_cb);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, k);
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	}
	curl_easy_setopt(e, CURLOPT_USERAGENT, "appdeploy/" APPDEPLOY_VERSION);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* kubectl asks for gzip unless the cluster entry says disable-compression */
	if (!c->disable_compression)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
	/* proxy-url wins; without it libcurl honours HTTPS_PROXY/https_proxy, http_proxy and NO_PROXY */
	if (c->proxy_url)
		curl_easy_setopt(e, CURLOPT_PROXY, c->proxy_url);
	if (k->connect_to) {
		x->connect_to = curl_slist_append(NULL, k->connect_to);
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, x->connect_to);
	}
	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (c->ca_data) {
		struct curl_blob b = {.data = c->ca_data, .len = c->ca_data_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	} else if (c->ca_file) {
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	}
	if (au && au->from_exec && au->exec.cert) {
		struct curl_blob b = {.data = au->exec.cert, .len = au->exec.cert_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		struct curl_blob kb = {.data = au->exec.key, .len = au->exec.key_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &kb);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->cert_data) {
		struct curl_blob b = {.data = c->cert_data, .len = c->cert_data_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->cert_file) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
	}
	if (au && au->from_exec && au->exec.cert) {
		/* the plugin's key was set with its certificate */
	} else if (c->key_data) {
		struct curl_blob b = {.data = c->key_data, .len = c->key_data_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->key_file) {
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
	}
	char accept[512];
	snprintf(accept, sizeof accept, "Accept: %s", r->accept ? r->accept : "application/json");
	struct curl_slist *h = curl_slist_append(NULL, accept);
	if (r->if_none_match && *r->if_none_match) {
		char inm[192];
		snprintf(inm, sizeof inm, "If-None-Match: %s", r->if_none_match);
		h = curl_slist_append(h, inm);
	}
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
		char given[256];
		if (r->body_type) { /* a body passed on as it came (up's forward) */
			snprintf(given, sizeof given, "Content-Type: %s", r->body_type);
			ct = given;
		}
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
		errbuf_set(r->err, sizeof r->err, "cannot start an HTTP request");
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
	curl_slist_free_all(x->connect_to);
	x->connect_to = NULL;
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
	if (r->status == 401 && k->cfg.exec)
		errbuf_set(r->err, sizeof r->err,
			"%s%s%s (HTTP 401 Unauthorized; the server refused the credential exec plugin %s returned for user "
			"\"%s\", also after running it again)",
			hint, msg && strcmp(msg, "Unauthorized") ? ": " : "", msg && strcmp(msg, "Unauthorized") ? msg : "",
			k->cfg.exec->command, k->cfg.exec->user);
	else if (r->status == 401)
		errbuf_set(r->err, sizeof r->err, "%s%s%s (HTTP 401 Unauthorized; check the token or client certificate of context \"%s\")",
			hint, msg && strcmp(msg, "Unauthorized") ? ": " : "", msg && strcmp(msg, "Unauthorized") ? msg : "",
			k->cfg.context ?: "?");
	else
		errbuf_set(r->err, sizeof r->err, "%s (HTTP %ld%s%s)", msg && *msg ? msg : hint, r->status, reason ? " " : "",
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
		x->not_before = mono_seconds() + delay;
		x->state = 0;
		return;
	}
	x->state = 2;
	r->status = code == CURLE_OK ? status : 0;
	snprintf(r->etag, sizeof r->etag, "%s", x->etag);
	snprintf(r->content_type, sizeof r->content_type, "%s", x->content_type);
	json_decref(r->response);
	r->response = NULL;
	if (x->resp_len) {
		r->response = json_loadb(x->resp, x->resp_len, 0, NULL);
	}
	if (code != CURLE_OK) {
		errbuf_set(r->err, sizeof r->err, "cannot reach %s: %s", k->cfg.server,
			x->curl_err[0] ? x->curl_err : curl_easy_strerror(code));
	} else if (status < 200 || status > 299) {
		describe_failure(k, r);
	} else {
		r->err[0] = 0;
	}
}

static void auth_clear(struct auth *au)
{
	if (au->token) {
		explicit_bzero(au->token, strlen(au->token));
		free(au->token);
	}
	execcred_clear(&au->exec);
	memset(au, 0, sizeof *au);
}

/* The credentials for the next requests: the exec plugin's (cached until expiry; `rejected` is one the
 * server just refused), else the kubeconfig's token or token file. Returns 0, or -1 with err filled. */
static int auth_get(struct kube *k, const struct execcred *rejected, struct auth *au, struct sm_error *err)
{
	memset(au, 0, sizeof *au);
	if (k->cfg.exec) {
		if (execcred_get(&k->cfg, rejected, &au->exec, err))
			return -1;
		au->from_exec = 1;
		if (au->exec.token && !(au->token = strdup(au->exec.token))) {
			auth_clear(au);
			sm_error_set(err, NULL, 0, 0, "out of memory");
			return -1;
		}
		return 0;
	}
	return kubeconfig_token(&k->cfg, &au->token, err);
}

/* Runs the n requests rp[] with credentials au until each is done or out of retries. */
static void run_batch(struct kube *k, struct kube_req **rp, size_t n, const struct auth *au)
{
	struct xfer *xs = calloc(n, sizeof *xs);
	if (!xs) {
		for (size_t i = 0; i < n; i++)
			errbuf_set(rp[i]->err, sizeof rp[i]->err, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		xs[i].req = rp[i];
		rp[i]->status = 0;
		rp[i]->err[0] = 0;
	}
	size_t done = 0, running = 0;
	while (done < n) {
		double t = mono_seconds(), next_wake = t + 1;
		for (size_t i = 0; i < n && running < (size_t)k->concurrency; i++) {
			if (xs[i].state != 0)
				continue;
			if (xs[i].not_before > t) {
				if (xs[i].not_before < next_wake)
					next_wake = xs[i].not_before;
				continue;
			}
			if (xfer_start(k, &xs[i], au)) {
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
		int wait_ms = (int)((next_wake - mono_seconds()) * 1000);
		if (wait_ms < 0)
			wait_ms = 0;
		if (running)
			curl_multi_poll(k->multi, NULL, 0, wait_ms > 200 ? 200 : wait_ms, NULL);
		else if (wait_ms > 0) {
			struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	for (size_t i = 0; i < n; i++) {
		xfer_end(k, &xs[i]);
		free(xs[i].body);
		free(xs[i].resp);
	}
	free(xs);
}

size_t kube_do(struct kube *k, struct kube_req *reqs, size_t n)
{
	if (!n)
		return 0;
	struct auth au;
	struct sm_error terr;
	if (auth_get(k, NULL, &au, &terr)) {
		for (size_t i = 0; i < n; i++) {
			reqs[i].status = 0;
			snprintf(reqs[i].err, sizeof reqs[i].err, "%.1023s", terr.msg); /* err[1024] */
		}
		return n;
	}
	struct kube_req **rp = calloc(n, sizeof *rp);
	if (!rp) {
		auth_clear(&au);
		return n;
	}
	for (size_t i = 0; i < n; i++)
		rp[i] = &reqs[i];
	run_batch(k, rp, n, &au);
	/* a plugin's credential the server refuses (revoked, expired early): ask the plugin again, once,
	 * and repeat only the refused requests (a 401 changed nothing on the server) */
	size_t m = 0;
	for (size_t i = 0; au.from_exec && i < n; i++)
		if (reqs[i].status == 401)
			rp[m++] = &reqs[i];
	if (m) {
		struct auth again;
		log_debug("exec credential of user %s refused (401): running the plugin again", k->cfg.exec->user);
		if (auth_get(k, &au.exec, &again, &terr)) {
			for (size_t i = 0; i < m; i++)
				snprintf(rp[i]->err, sizeof rp[i]->err, "%.1023s", terr.msg);
		} else {
			run_batch(k, rp, m, &again);
			auth_clear(&again);
		}
	}
	free(rp);
	auth_clear(&au);
	size_t failed = 0;
	for (size_t i = 0; i < n; i++)
		if (reqs[i].status < 200 || reqs[i].status > 299)
			failed++;
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

static int get_one(struct kube *k, const char *path, json_t **out, struct sm_error *err)
{
	struct kube_req r = {.method = KUBE_GET, .path = strdup(path)};
	kube_do(k, &r, 1);
	if (r.status != 200) {
		sm_error_set(err, NULL, 0, 0, "GET %s: %s", path, r.err);
		kube_req_clear(&r);
		return -1;
	}
	*out = r.response;
	r.response = NULL;
	kube_req_clear(&r);
	return 0;
}

int kube_version(struct kube *k, char *buf, size_t buflen, struct sm_error *err)
{
	json_t *v;
	if (get_one(k, "/version", &v, err))
		return -1;
	snprintf(buf, buflen, "%s", json_string_value(json_object_get(v, "gitVersion")) ?: "unknown");
	json_decref(v);
	return 0;
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
		   const char *selector, json_t **items, struct sm_error *err)
{
	struct kube_req *reqs = calloc(n ? n : 1, sizeof *reqs);
	size_t *idx = calloc(n ? n : 1, sizeof *idx);
	int *restarts = calloc(n ? n : 1, sizeof *restarts);
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
			if (r->status == 410 && strstr(r->path, "&continue=") && restarts[i] < 3) {
				/* the continue token expired (410 Expired/ResourceExpired): the server says to start
				 * that list again without it; the pages read so far are dropped */
				restarts[i]++;
				log_debug("list %s: continue token expired, listing again", res[i]->plural);
				kube_req_clear(r);
				json_array_clear(items[i]);
				reqs[next] = (struct kube_req){.method = KUBE_GET, .path = list_path(k, res[i], ns, selector, NULL)};
				idx[next] = i;
				next++;
				continue;
			}
			if (r->status != 200) {
				if (!rc)
					sm_error_set(err, NULL, 0, 0, "list %s: %s", res[i]->plural, r->err);
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
	free(restarts);
	if (rc)
		for (size_t i = 0; i < n; i++) {
			json_decref(items[i]);
			items[i] = NULL;
		}
	return rc;
}

size_t kube_get_many(struct kube *k, const struct kube_resource *const *res, const char *const *names, size_t n,
		     const char *ns, struct kube_req *reqs)
{
	int *done = calloc(n ? n : 1, sizeof *done);
	struct kube_req **rp = calloc(n ? n : 1, sizeof *rp);
	struct kube_req *single = calloc(n ? n : 1, sizeof *single);
	if (!done || !rp || !single) {
		free(done);
		free(rp);
		free(single);
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		size_t same = 0;
		for (size_t j = i; j < n; j++)
			same += res[j] == res[i];
		if (same < KUBE_GET_MANY_LIST || !(res[i]->verbs & KUBE_VERB_LIST))
			continue;
		/* one list for the kind; its items answer every GET of that kind */
		json_t *items = NULL;
		struct sm_error lerr;
		if (kube_list_many(k, &res[i], 1, res[i]->namespaced ? ns : "", NULL, &items, &lerr))
			continue; /* e.g. not allowed to list: the GETs below may still be */
		for (size_t j = i; j < n; j++) {
			if (res[j] != res[i])
				continue;
			done[j] = 1;
			json_decref(reqs[j].response);
			reqs[j].response = NULL;
			reqs[j].status = 404;
			snprintf(reqs[j].err, sizeof reqs[j].err, "not found (HTTP 404 NotFound)");
			size_t a;
			json_t *o;
			json_array_foreach(items, a, o) {
				const char *nm = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
				if (nm && !strcmp(nm, names[j])) {
					reqs[j].response = json_deep_copy(o);
					json_object_set_new(reqs[j].response, "apiVersion", json_string(res[j]->api_version));
					json_object_set_new(reqs[j].response, "kind", json_string(res[j]->kind));
					reqs[j].status = 200;
					reqs[j].err[0] = 0;
					break;
				}
			}
		}
		json_decref(items);
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!done[i]) {
			single[m] = reqs[i];
			rp[m++] = &reqs[i];
		}
	kube_do(k, single, m);
	for (size_t i = 0; i < m; i++)
		*rp[i] = single[i];
	size_t failed = 0;
	for (size_t i = 0; i < n; i++)
		if (reqs[i].status != 200 && reqs[i].status != 404)
			failed++;
	free(done);
	free(rp);
	free(single);
	return failed;
}

int kube_fetch_url(const char *url, char **out, size_t *len, struct sm_error *err)
{
	*out = NULL;
	CURL *e = curl_easy_init();
	if (!e) {
		sm_error_set(err, NULL, 0, 0, "cannot create an HTTP request");
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
	curl_easy_setopt(e, CURLOPT_USERAGENT, "appdeploy/" APPDEPLOY_VERSION);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode code = curl_easy_perform(e);
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	if (code != CURLE_OK) {
		sm_error_set(err, NULL, 0, 0, "%s", x.curl_err[0] ? x.curl_err : curl_easy_strerror(code));
		free(x.resp);
		return -1;
	}
	if (status != 200) {
		sm_error_set(err, NULL, 0, 0, "HTTP %ld", status);
		free(x.resp);
		return -1;
	}
	*out = x.resp ? x.resp : strdup("");
	*len = x.resp_len;
	return 0;
}

/* --- requests run alone, blocking (kube_stream, kube_post_raw, kube_forward) --- */

/* What one of them adds to xfer_start's handle. */
struct solo {
	const char *method;          /* the request line's method (NULL: the kube_req's) */
	const char *const *headers;  /* extra "Name: value" lines, NULL-terminated, or NULL */
	int with_body;               /* send body (len bytes, NULL: none) as it is */
	const char *body;
	size_t len;
	kube_body_cb read;           /* else the body from read(read_arg) while it is produced (length unknown) */
	void *read_arg;
	long timeout_s;              /* 0: none */
	curl_write_callback write;   /* the answer's body as it arrives (NULL: kept in x->resp) */
	curl_xferinfo_callback idle; /* about every 100 ms (NULL: only the client's cancel flag) */
	void *cb_arg;
	const int *aborted;          /* set by those callbacks when they ended the transfer */
	int completed;               /* out: the answer arrived whole */
};

struct solo_run_ctx {
	struct kube *k;
	struct xfer *x;
	struct solo *o;
	int hold_401; /* an exec plugin's credential on the first try: a 401 is not passed on (it is asked again) */
};

static int refused_on_hold(struct solo_run_ctx *c)
{
	long status = 0;
	if (!c->hold_401)
		return 0;
	curl_easy_getinfo(c->x->easy, CURLINFO_RESPONSE_CODE, &status);
	return status == 401;
}

static size_t solo_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct solo_run_ctx *c = ud;
	if (refused_on_hold(c))
		return size * nmemb;
	return c->o->write ? c->o->write(ptr, size, nmemb, c->o->cb_arg) : on_body(ptr, size, nmemb, c->x);
}

static size_t solo_read(char *ptr, size_t size, size_t nitems, void *ud)
{
	struct solo *o = ud;
	size_t n = o->read(o->read_arg, 0, ptr, size * nitems);
	return n == KUBE_BODY_ABORT ? CURL_READFUNC_ABORT : n;
}

static int solo_idle(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct solo_run_ctx *c = ud;
	if (refused_on_hold(c))
		return 0;
	if (c->o->idle)
		return c->o->idle(c->o->cb_arg, dltotal, dlnow, ultotal, ulnow);
	return c->k->cancel ? cancel_cb(c->k, dltotal, dlnow, ultotal, ulnow) : 0;
}

/* Runs r alone (outside kube_do's multi) with o's additions. A 401 to an exec plugin's credential runs the
 * plugin again and repeats the request once, as kube_do does (the 401 itself is never passed on then).
 * Returns the HTTP status, 0 when o's callbacks ended it, or -1 with err filled when there was no answer. */
static long solo_run(struct kube *k, struct kube_req *r, struct xfer *x, struct solo *o, struct sm_error *err)
{
	struct auth au;
	long rc = -1;
	if (auth_get(k, NULL, &au, err))
		return -1;
	for (int attempt = 0;; attempt++) {
		struct solo_run_ctx c = {k, x, o, au.from_exec && attempt == 0};
		if (xfer_start(k, x, &au)) {
			sm_error_set(err, NULL, 0, 0, "%s", r->err);
			break;
		}
		curl_multi_remove_handle(k->multi, x->easy);
		for (size_t i = 0; o->headers && o->headers[i]; i++)
			x->headers = curl_slist_append(x->headers, o->headers[i]);
		curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
		if (o->method)
			curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, o->method);
		if (o->read) { /* chunked over HTTP/1.1; a repeat starts the body again from its first byte */
			o->read(o->read_arg, 1, NULL, 0);
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, NULL);
			curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
			curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, solo_read);
			curl_easy_setopt(x->easy, CURLOPT_READDATA, o);
		} else if (o->with_body) {
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, o->body ? o->body : "");
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(o->body ? o->len : 0));
		}
		curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, solo_write);
		curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, &c);
		curl_easy_setopt(x->easy, CURLOPT_XFERINFOFUNCTION, solo_idle);
		curl_easy_setopt(x->easy, CURLOPT_XFERINFODATA, &c);
		curl_easy_setopt(x->easy, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, o->timeout_s);
		CURLcode code = curl_easy_perform(x->easy);
		long status = 0;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		o->completed = code == CURLE_OK;
		if (o->aborted && *o->aborted) {
			rc = 0;
		} else if (code != CURLE_OK && !status) {
			sm_error_set(err, NULL, 0, 0, "cannot reach %s: %s", k->cfg.server,
				     x->curl_err[0] ? x->curl_err : curl_easy_strerror(code));
			rc = -1;
		} else {
			rc = status;
		}
		if (rc != 401 || !c.hold_401)
			break;
		struct auth again;
		log_debug("exec credential of user %s refused (401): running the plugin again", k->cfg.exec->user);
		xfer_end(k, x);
		if (auth_get(k, &au.exec, &again, err)) {
			rc = -1;
			break;
		}
		auth_clear(&au);
		au = again;
	}
	/* xfer_end removes from the multi again (harmless) and wipes the token header */
	xfer_end(k, x);
	auth_clear(&au);
	return rc;
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
	long status = 0; /* known once the headers came: a quiet watch stream is still an answered one */
	curl_easy_getinfo(s->x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (s->cb(s->arg, status, NULL, 0)) {
		s->aborted = 1;
		return 1;
	}
	return 0;
}

long kube_stream(struct kube *k, const char *method, const char *path, long timeout_s, kube_stream_cb cb, void *arg,
		 struct sm_error *err)
{
	struct kube_req r = {.method = strcmp(method, "POST") ? KUBE_GET : KUBE_POST, .path = strdup(path)};
	struct xfer x = {.req = &r};
	struct stream_ctx s = {.x = &x, .cb = cb, .arg = arg};
	struct solo o = {.timeout_s = timeout_s, .write = on_stream_body, .idle = on_stream_progress, .cb_arg = &s,
			 .aborted = &s.aborted};
	long rc = -1;
	if (!r.path)
		sm_error_set(err, NULL, 0, 0, "out of memory");
	else
		rc = solo_run(k, &r, &x, &o, err);
	free(x.body);
	free(x.resp);
	free(r.path);
	return rc;
}

/* A POST with o's body, its answer in *out. */
static long post_solo(struct kube *k, const char *path, struct solo *o, char **out, size_t *out_len,
		      struct sm_error *err)
{
	struct kube_req r = {.method = KUBE_POST, .path = strdup(path)};
	struct xfer x = {.req = &r, .body = strdup("")}; /* xfer_start leaves a body it is given alone */
	long rc = -1;

	*out = NULL;
	*out_len = 0;
	if (!r.path || !x.body)
		sm_error_set(err, NULL, 0, 0, "out of memory");
	else if ((rc = solo_run(k, &r, &x, o, err)) > 0 && (*out = malloc(x.resp_len + 1))) {
		if (x.resp_len)
			memcpy(*out, x.resp, x.resp_len);
		(*out)[x.resp_len] = 0;
		*out_len = x.resp_len;
	}
	free(x.body);
	free(x.resp);
	free(r.path);
	return rc;
}

long kube_post_raw(struct kube *k, const char *path, const char *const *headers, const char *body, size_t len,
		   long timeout_s, char **out, size_t *out_len, struct sm_error *err)
{
	struct solo o = {.headers = headers, .with_body = 1, .body = body, .len = len, .timeout_s = timeout_s};

	return post_solo(k, path, &o, out, out_len, err);
}

long kube_post_stream(struct kube *k, const char *path, const char *const *headers, kube_body_cb read, void *arg,
		      long timeout_s, char **out, size_t *out_len, struct sm_error *err)
{
	struct solo o = {.headers = headers, .read = read, .read_arg = arg, .timeout_s = timeout_s};

	return post_solo(k, path, &o, out, out_len, err);
}

/* --- up's local forward (#16): kube_forward --- */

struct forward_ctx {
	struct xfer *x;
	kube_forward_cb cb;
	void *arg;
	int aborted;
	int wrote; /* cb had a piece of the body */
};

static size_t on_forward_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct forward_ctx *s = ud;
	long status = 0;
	curl_easy_getinfo(s->x->easy, CURLINFO_RESPONSE_CODE, &status);
	s->wrote = 1;
	if (s->cb(s->arg, status, s->x->content_type, ptr, size * nmemb)) {
		s->aborted = 1;
		return 0;
	}
	return size * nmemb;
}

static int on_forward_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct forward_ctx *s = ud;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	long status = 0;
	curl_easy_getinfo(s->x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (s->cb(s->arg, status, s->x->content_type, NULL, 0)) {
		s->aborted = 1;
		return 1;
	}
	return 0;
}

long kube_forward(struct kube *k, const char *method, const char *path, const char *accept, const char *const *headers,
		  const char *body_type, const char *body, size_t len, long timeout_s, kube_forward_cb cb, void *arg,
		  struct sm_error *err)
{
	int with_body = body != NULL || !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH");
	struct kube_req r = {.method = with_body ? KUBE_POST : KUBE_GET,
			     .path = strdup(path),
			     .accept = accept ? accept : "*/*",
			     .body_type = body_type};
	/* xfer_start leaves a body it is given alone: the raw bytes go in through o */
	struct xfer x = {.req = &r, .body = with_body ? strdup("") : NULL};
	struct forward_ctx s = {.x = &x, .cb = cb, .arg = arg};
	struct solo o = {.method = method, .headers = headers, .with_body = with_body, .body = body, .len = len,
			 .timeout_s = timeout_s, .write = on_forward_body, .idle = on_forward_progress, .cb_arg = &s,
			 .aborted = &s.aborted};
	long rc = -1;
	if (!r.path || (with_body && !x.body))
		sm_error_set(err, NULL, 0, 0, "out of memory");
	else if ((rc = solo_run(k, &r, &x, &o, err)) > 0 && o.completed && !s.wrote)
		cb(arg, rc, x.content_type, "", 0); /* an empty answer still has its status and type */
	free(x.body);
	free(x.resp);
	free(r.path);
	return rc;
}
