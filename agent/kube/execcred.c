/* execcred.c — runs exec credential plugins as client-go does and caches their answers in the process until they expire. */
#include "execcred.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base64.h"
#include "errbuf.h"
#include "log.h"
#include "slurp.h"

extern char **environ;

#define MAX_OUT (4u << 20)  /* a plugin printing more than this is broken */
#define STDERR_KEEP 1500    /* the tail of its stderr quoted in errors */

static void wipe_free(char *s, size_t n)
{
	if (s) {
		explicit_bzero(s, n ? n : strlen(s));
		free(s);
	}
}

void execcred_clear(struct execcred *c)
{
	wipe_free(c->token, 0);
	wipe_free(c->cert, c->cert_len);
	wipe_free(c->key, c->key_len);
	memset(c, 0, sizeof *c);
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

int execcred_copy(struct execcred *dst, const struct execcred *src)
{
	memset(dst, 0, sizeof *dst);
	dst->expires = src->expires;
	if (src->token && !(dst->token = strdup(src->token)))
		goto oom;
	if (src->cert && !(dst->cert = dup_n(src->cert, src->cert_len)))
		goto oom;
	dst->cert_len = src->cert_len;
	if (src->key && !(dst->key = dup_n(src->key, src->key_len)))
		goto oom;
	dst->key_len = src->key_len;
	return 0;
oom:
	execcred_clear(dst);
	return -1;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int execcred_parse_time(const char *s, double *out)
{
	int Y, M, D, h, m, sec;
	if (strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
	    digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -1;
	const char *p = s + 19;
	double frac = 0, scale = 0.1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec};
	time_t t = timegm(&tm);
	*out = (double)t - off + frac;
	return 0;
}

int execcred_parse(const char *text, size_t len, const char *api_version, struct execcred *out, struct sm_error *err)
{
	memset(out, 0, sizeof *out);
	json_error_t je;
	json_t *doc = json_loadb(text, len, 0, &je);
	if (!doc) {
		/* never quote it: a plugin that half-printed a credential would leak it here */
		sm_error_set(err, NULL, 0, 0, "its output is not an ExecCredential JSON object (%zu bytes, not shown)", len);
		return -1;
	}
	int rc = -1;
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	const char *av = json_string_value(json_object_get(doc, "apiVersion"));
	json_t *st = json_object_get(doc, "status");
	const char *tok = json_string_value(json_object_get(st, "token"));
	const char *cert = json_string_value(json_object_get(st, "clientCertificateData"));
	const char *key = json_string_value(json_object_get(st, "clientKeyData"));
	json_t *exp = json_object_get(st, "expirationTimestamp");
	if (!json_is_object(doc) || !kind || strcmp(kind, "ExecCredential")) {
		sm_error_set(err, NULL, 0, 0, "its output is JSON but not an ExecCredential (kind is \"%.40s\")", kind ? kind : "");
	} else if (!av || strcmp(av, api_version)) {
		sm_error_set(err, NULL, 0, 0, "it is configured for apiVersion %s but answered apiVersion \"%.80s\"", api_version,
			av ? av : "");
	} else if (!json_is_object(st)) {
		sm_error_set(err, NULL, 0, 0, "its ExecCredential has no status");
	} else if ((cert && *cert) != (key && *key)) {
		sm_error_set(err, NULL, 0, 0, "its ExecCredential has %s without %s", cert && *cert ? "clientCertificateData" : "clientKeyData",
			cert && *cert ? "clientKeyData" : "clientCertificateData");
	} else if (!(tok && *tok) && !(cert && *cert)) {
		sm_error_set(err, NULL, 0, 0, "its ExecCredential has neither status.token nor clientCertificateData/clientKeyData");
	} else if (exp && !json_is_null(exp) &&
		   (!json_is_string(exp) || execcred_parse_time(json_string_value(exp), &out->expires))) {
		sm_error_set(err, NULL, 0, 0, "its status.expirationTimestamp is not an RFC 3339 time");
	} else {
		out->token = tok && *tok ? strdup(tok) : NULL;
		if (cert && *cert) {
			out->cert_len = strlen(cert);
			out->cert = strdup(cert);
			out->key_len = strlen(key);
			out->key = strdup(key);
		}
		rc = 0;
	}
	/* wipe the parsed secrets in jansson's copies before they go back to the allocator */
	if (tok)
		explicit_bzero((char *)tok, strlen(tok));
	if (key)
		explicit_bzero((char *)key, strlen(key));
	json_decref(doc);
	if (rc)
		execcred_clear(out);
	return rc;
}

/* ------------------------------------------------------------ running the plugin */

/* KUBERNETES_EXEC_INFO: an ExecCredential whose spec tells the plugin whether it may prompt and, with
 * provideClusterInfo, which cluster it is for (client.authentication.k8s.io ExecCredentialSpec). */
static char *exec_info(const struct kube_config *cfg, int interactive)
{
	const struct kube_exec *e = cfg->exec;
	json_t *spec = json_pack("{s:b}", "interactive", interactive);
	if (e->provide_cluster_info) {
		json_t *cl = json_pack("{s:s}", "server", cfg->server ? cfg->server : "");
		if (cfg->tls_server_name)
			json_object_set_new(cl, "tls-server-name", json_string(cfg->tls_server_name));
		if (cfg->insecure)
			json_object_set_new(cl, "insecure-skip-tls-verify", json_true());
		char *ca = NULL;
		size_t calen = 0;
		if (cfg->ca_data) {
			ca = base64_encode(cfg->ca_data, cfg->ca_data_len);
		} else if (cfg->ca_file) {
			char *pem = slurp(cfg->ca_file, 0, &calen);
			if (pem)
				ca = base64_encode(pem, calen);
			free(pem);
		}
		if (ca)
			json_object_set_new(cl, "certificate-authority-data", json_string(ca));
		free(ca);
		if (cfg->proxy_url)
			json_object_set_new(cl, "proxy-url", json_string(cfg->proxy_url));
		if (cfg->disable_compression)
			json_object_set_new(cl, "disable-compression", json_true());
		if (e->cluster_config) {
			json_t *c = json_loads(e->cluster_config, JSON_DECODE_ANY, NULL);
			if (c)
				json_object_set_new(cl, "config", c);
		}
		json_object_set_new(spec, "cluster", cl);
	}
	json_t *doc = json_pack("{s:s, s:s, s:o}", "apiVersion", e->api_version, "kind", "ExecCredential", "spec", spec);
	char *s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	char *out = NULL;
	if (s && asprintf(&out, "KUBERNETES_EXEC_INFO=%s", s) < 0)
		out = NULL;
	free(s);
	return out;
}

/* Our environment, then the plugin's env entries (which win, as in client-go), then KUBERNETES_EXEC_INFO. */
static char **plugin_env(const struct kube_exec *e, char *info)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + e->nenv + 2, sizeof *env);
	if (!env)
		return NULL;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		int overridden = !strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21);
		for (size_t j = 0; j < e->nenv && !overridden; j++)
			overridden = !strncmp(environ[i], e->env[j], kl);
		if (!overridden)
			env[m++] = environ[i];
	}
	for (size_t j = 0; j < e->nenv; j++)
		env[m++] = e->env[j];
	env[m++] = info;
	env[m] = NULL;
	return env;
}

/* The last STDERR_KEEP bytes of a plugin's stderr, trimmed, on one line per line break kept. */
static const char *stderr_tail(char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = 0;
	return n > STDERR_KEEP ? s + n - STDERR_KEEP : s;
}

/* Runs the plugin; its stdout lands in *out (malloc'd) and the tail of its stderr in errtail (when captured).
 * Returns 0, or -1 with err filled. */
static int run_plugin(const struct kube_config *cfg, char **out, size_t *outlen, char *errtail, size_t tailcap,
		      struct sm_error *err)
{
	const struct kube_exec *e = cfg->exec;
	int tty = isatty(0);
	if (e->interactive == KUBE_EXEC_ALWAYS && !tty) {
		sm_error_set(err, NULL, 0, 0,
			"user \"%s\": exec plugin %s needs a terminal (interactiveMode: Always) but standard input is not one; "
			"run appdeploy from a terminal, or log in with the plugin first",
			e->user, e->command);
		return -1;
	}
	int interactive = tty && e->interactive != KUBE_EXEC_NEVER;
	char *info = exec_info(cfg, interactive);
	char **env = info ? plugin_env(e, info) : NULL;
	char **argv = calloc(e->nargs + 2, sizeof *argv);
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	int rc = -1;
	pid_t pid = -1;
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (!env || !argv || pipe2(po, O_CLOEXEC) || (!interactive && pipe2(pe, O_CLOEXEC))) {
		sm_error_set(err, NULL, 0, 0, "user \"%s\": cannot start exec plugin %s: %s", e->user, e->command, strerror(errno));
		goto out;
	}
	argv[0] = e->command;
	for (size_t i = 0; i < e->nargs; i++)
		argv[i + 1] = e->args[i];
	if (!interactive)
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	if (!interactive)
		posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	int serr = posix_spawnp(&pid, e->command, &fa, NULL, argv, env);
	close(po[1]);
	po[1] = -1;
	if (pe[1] >= 0) {
		close(pe[1]);
		pe[1] = -1;
	}
	if (serr) {
		pid = -1;
		if (serr == ENOENT || serr == EACCES || serr == ENOTDIR)
			sm_error_set(err, NULL, 0, 0, "user \"%s\": exec plugin %s %s%s%s", e->user, e->command,
				serr == EACCES ? "is not executable" : strchr(e->command, '/') ? "not found" : "not found in $PATH",
				e->install_hint ? "\n" : "", e->install_hint ? e->install_hint : "");
		else
			sm_error_set(err, NULL, 0, 0, "user \"%s\": cannot run exec plugin %s: %s", e->user, e->command, strerror(serr));
		goto out;
	}
	/* read stdout and stderr together so neither pipe fills and blocks the plugin */
	struct pollfd fds[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
	int open_fds = 1 + (pe[0] >= 0);
	size_t ocap = 0, ecap = 0;
	int toobig = 0;
	while (open_fds) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char **b = i ? &ebuf : &obuf;
			size_t *l = i ? &elen : &olen, *c = i ? &ecap : &ocap;
			if (*l + 4097 > *c) {
				char *nb = realloc(*b, *c = *c * 2 + 8192);
				if (!nb) {
					toobig = 1;
					break;
				}
				*b = nb;
				(*b)[*l] = 0; /* a pipe that ends without a byte still reads as "" */
			}
			ssize_t r = read(fds[i].fd, *b + *l, *c - *l - 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			*l += (size_t)r;
			(*b)[*l] = 0;
			if (*l > MAX_OUT)
				toobig = 1;
		}
		if (toobig)
			break;
	}
	po[0] = fds[0].fd;
	pe[0] = fds[1].fd;
	if (toobig)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	const char *se = ebuf ? stderr_tail(ebuf, elen) : "";
	if (toobig) {
		sm_error_set(err, NULL, 0, 0, "user \"%s\": exec plugin %s printed more than %u bytes", e->user, e->command, MAX_OUT);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char how[64];
		if (WIFEXITED(status))
			snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(status));
		else
			snprintf(how, sizeof how, "was killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		sm_error_set(err, NULL, 0, 0, "user \"%s\": exec plugin %s %s%s%s", e->user, e->command, how,
			*se ? "; its stderr: " : interactive ? " (its messages are above)" : " and printed nothing on stderr",
			se);
	} else {
		*out = obuf ? obuf : strdup("");
		*outlen = olen;
		obuf = NULL;
		snprintf(errtail, tailcap, "%s", se);
		rc = 0;
	}
out:
	posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (obuf)
		explicit_bzero(obuf, olen);
	free(obuf);
	free(ebuf);
	free(argv);
	free(env);
	free(info);
	return rc;
}

/* ------------------------------------------------------------ the process-wide cache */

struct cache_entry {
	char *key;
	struct execcred cred;
	struct cache_entry *next;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry *cache;

static void cache_wipe(void)
{
	pthread_mutex_lock(&cache_mu);
	while (cache) {
		struct cache_entry *c = cache;
		cache = c->next;
		execcred_clear(&c->cred);
		free(c->key);
		free(c);
	}
	pthread_mutex_unlock(&cache_mu);
}

/* One plugin configuration for one cluster: what client-go keys its authenticator cache on. */
static char *cache_key(const struct kube_config *cfg)
{
	const struct kube_exec *e = cfg->exec;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "%s\x1f%s\x1f%s\x1f%s\x1f%d\x1f%s", e->api_version, e->command, cfg->server ? cfg->server : "",
		e->user ? e->user : "", e->provide_cluster_info, e->cluster_config ? e->cluster_config : "");
	for (size_t i = 0; i < e->nargs; i++)
		fprintf(f, "\x1e%s", e->args[i]);
	for (size_t i = 0; i < e->nenv; i++)
		fprintf(f, "\x1d%s", e->env[i]);
	fclose(f);
	return buf;
}

static int same_cred(const struct execcred *a, const struct execcred *b)
{
	if (a->token || b->token)
		return a->token && b->token && !strcmp(a->token, b->token);
	return a->cert && b->cert && a->cert_len == b->cert_len && !memcmp(a->cert, b->cert, a->cert_len);
}

int execcred_get(const struct kube_config *cfg, const struct execcred *rejected, struct execcred *out, struct sm_error *err)
{
	memset(out, 0, sizeof *out);
	char *key = cache_key(cfg);
	if (!key) {
		sm_error_set(err, NULL, 0, 0, "out of memory");
		return -1;
	}
	/* held while the plugin runs: concurrent requests wait for one answer, as client-go's do */
	pthread_mutex_lock(&cache_mu);
	static int registered;
	if (!registered) {
		atexit(cache_wipe);
		registered = 1;
	}
	struct cache_entry **pp = &cache, *c = NULL;
	for (; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->key, key)) {
			c = *pp;
			break;
		}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double t = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	if (c && ((rejected && same_cred(&c->cred, rejected)) || (c->cred.expires && t >= c->cred.expires))) {
		*pp = c->next;
		execcred_clear(&c->cred);
		free(c->key);
		free(c);
		c = NULL;
	}
	int rc = 0;
	if (c) {
		rc = execcred_copy(out, &c->cred);
	} else {
		char *text = NULL;
		size_t len = 0;
		struct execcred fresh;
		struct sm_error perr;
		char tail[STDERR_KEEP + 1] = "";
		rc = run_plugin(cfg, &text, &len, tail, sizeof tail, err);
		if (!rc) {
			log_debug("exec plugin %s ran for user %s", cfg->exec->command, cfg->exec->user);
			rc = execcred_parse(text, len, cfg->exec->api_version, &fresh, &perr);
			if (rc) /* the parse error cut at 599 bytes, as its buffer always did */
				sm_error_set(err, NULL, 0, 0, "user \"%s\": exec plugin %s: %.599s%s%s", cfg->exec->user,
					     cfg->exec->command, perr.msg, *tail ? "; its stderr: " : "", tail);
		}
		if (text) {
			explicit_bzero(text, len);
			free(text);
		}
		if (!rc) {
			c = calloc(1, sizeof *c);
			if (c) {
				c->key = key;
				key = NULL;
				c->cred = fresh;
				c->next = cache;
				cache = c;
				rc = execcred_copy(out, &c->cred);
			} else {
				rc = execcred_copy(out, &fresh);
				execcred_clear(&fresh);
			}
		}
	}
	pthread_mutex_unlock(&cache_mu);
	free(key);
	return rc;
}
