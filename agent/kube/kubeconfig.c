/* kubeconfig.c — kubeconfig files (KUBECONFIG merge, contexts, inline *-data) and the in-cluster service account. */
#include "kubeconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "errbuf.h"
#include "slurp.h"
#include "yamlval.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* One parsed kubeconfig file: its document, positions and directory (for relative paths). */
struct kc_file {
	char *path;
	char *dir;
	json_t *doc;
	json_t *pos;
};

/* Error at the position of a JSON pointer inside one file. */
static void pos_err(struct sm_error *err, const struct kc_file *f, const char *pointer, const char *msg)
{
	int line = 0, col = 0;
	if (f->pos)
		yv_position(f->pos, pointer, 0, &line, &col);
	/* "FILE:LINE:COL: msg", or "FILE: msg" when the pointer has no position */
	sm_error_set(err, f->path, line, line ? col : 0, "%s", msg);
}

static const unsigned char b64val[256] = {
#define B(c, v) [c] = v + 1
	B('A', 0),  B('B', 1),  B('C', 2),  B('D', 3),  B('E', 4),  B('F', 5),  B('G', 6),  B('H', 7),
	B('I', 8),  B('J', 9),  B('K', 10), B('L', 11), B('M', 12), B('N', 13), B('O', 14), B('P', 15),
	B('Q', 16), B('R', 17), B('S', 18), B('T', 19), B('U', 20), B('V', 21), B('W', 22), B('X', 23),
	B('Y', 24), B('Z', 25), B('a', 26), B('b', 27), B('c', 28), B('d', 29), B('e', 30), B('f', 31),
	B('g', 32), B('h', 33), B('i', 34), B('j', 35), B('k', 36), B('l', 37), B('m', 38), B('n', 39),
	B('o', 40), B('p', 41), B('q', 42), B('r', 43), B('s', 44), B('t', 45), B('u', 46), B('v', 47),
	B('w', 48), B('x', 49), B('y', 50), B('z', 51), B('0', 52), B('1', 53), B('2', 54), B('3', 55),
	B('4', 56), B('5', 57), B('6', 58), B('7', 59), B('8', 60), B('9', 61), B('+', 62), B('/', 63),
#undef B
};

/* Standard base64 with optional padding, whitespace ignored. Returns a malloc'd buffer or NULL. */
static char *b64_decode(const char *in, size_t *outlen)
{
	size_t n = strlen(in);
	char *out = malloc(n / 4 * 3 + 4);
	if (!out)
		return NULL;
	unsigned acc = 0;
	int bits = 0, pad = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || !b64val[c]) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)(b64val[c] - 1);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6 || pad > 2) {
		free(out);
		return NULL;
	}
	out[o] = 0;
	*outlen = o;
	return out;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void kc_file_free(struct kc_file *f)
{
	free(f->path);
	free(f->dir);
	json_decref(f->doc);
	json_decref(f->pos);
}

/* Parses text into f; an empty file is an empty config, like kubectl. */
static int kc_file_parse(struct kc_file *f, const char *text, size_t len, const char *name, struct sm_error *err)
{
	struct sm_error ye = {0};
	json_t *docs = yv_load(text, len, name, 1, &f->pos, &ye);
	if (!docs) {
		*err = ye; /* "NAME:LINE:COL: what", with its position */
		return -1;
	}
	if (json_array_size(docs) > 1) {
		json_decref(docs);
		sm_error_set(err, name, 0, 0, "a kubeconfig holds one YAML document, found %zu",
			json_array_size(docs));
		return -1;
	}
	f->doc = json_array_size(docs) ? json_incref(json_array_get(docs, 0)) : json_object();
	json_decref(docs);
	if (json_is_null(f->doc)) {
		json_decref(f->doc);
		f->doc = json_object();
	}
	if (!json_is_object(f->doc)) {
		pos_err(err, f, "0", "a kubeconfig must be a mapping");
		return -1;
	}
	static const char *lists[] = {"clusters", "users", "contexts"};
	for (size_t i = 0; i < 3; i++) {
		json_t *l = json_object_get(f->doc, lists[i]);
		char ptr[64], msg[128];
		if (!l || json_is_null(l))
			continue;
		snprintf(ptr, sizeof ptr, "0/%s", lists[i]);
		if (!json_is_array(l)) {
			snprintf(msg, sizeof msg, "%s must be a list", lists[i]);
			pos_err(err, f, ptr, msg);
			return -1;
		}
		size_t j;
		json_t *e;
		json_array_foreach(l, j, e) {
			snprintf(ptr, sizeof ptr, "0/%s/%zu", lists[i], j);
			if (!json_is_object(e) || !json_is_string(json_object_get(e, "name"))) {
				snprintf(msg, sizeof msg, "each entry of %s needs a name", lists[i]);
				pos_err(err, f, ptr, msg);
				return -1;
			}
		}
	}
	return 0;
}

/* Finds entry `name` in list `kind` ("clusters") of the files, first file wins; the entry's
 * inner object key is e.g. "cluster". Returns the inner object, *which gets the file and *idx the index. */
static json_t *find_entry(struct kc_file *files, size_t n, const char *kind, const char *inner, const char *name,
			  struct kc_file **which, size_t *idx)
{
	for (size_t i = 0; i < n; i++) {
		json_t *l = json_object_get(files[i].doc, kind);
		size_t j;
		json_t *e;
		json_array_foreach(l, j, e) {
			if (!strcmp(json_string_value(json_object_get(e, "name")), name)) {
				*which = &files[i];
				*idx = j;
				json_t *v = json_object_get(e, inner);
				return json_is_object(v) ? v : NULL;
			}
		}
	}
	return NULL;
}

/* Reads string field key of obj; a non-string is an error at its position. */
static int get_str(struct kc_file *f, const char *base, json_t *obj, const char *key, const char **out, struct sm_error *err)
{
	*out = NULL;
	json_t *v = obj ? json_object_get(obj, key) : NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		char ptr[256], msg[160];
		snprintf(ptr, sizeof ptr, "%s/%s", base, key);
		snprintf(msg, sizeof msg, "%s must be a string", key);
		pos_err(err, f, ptr, msg);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* A path relative to the kubeconfig's directory becomes absolute, as kubectl resolves them. */
static char *resolve_path(const struct kc_file *f, const char *p)
{
	if (!p || !*p)
		return NULL;
	if (p[0] == '/' || !f->dir)
		return strdup(p);
	if (p[0] == '~' && p[1] == '/' && getenv("HOME")) {
		char *out;
		return asprintf(&out, "%s/%s", getenv("HOME"), p + 2) < 0 ? NULL : out;
	}
	char *out;
	return asprintf(&out, "%s/%s", f->dir, p) < 0 ? NULL : out;
}

/* Decodes a *-data field; a bad value is an error naming the field (never its content). */
static int get_data(struct kc_file *f, const char *base, json_t *obj, const char *key, char **out, size_t *outlen,
		    struct sm_error *err)
{
	const char *s;
	if (get_str(f, base, obj, key, &s, err))
		return -1;
	if (!s)
		return 0;
	*out = b64_decode(s, outlen);
	if (!*out) {
		char ptr[256], msg[160];
		snprintf(ptr, sizeof ptr, "%s/%s", base, key);
		snprintf(msg, sizeof msg, "%s is not valid base64", key);
		pos_err(err, f, ptr, msg);
		return -1;
	}
	return 0;
}

/* auth-provider (gcp, azure, oidc) was removed from kubectl: say which exec plugin replaces it. */
static void auth_provider_err(struct kc_file *f, const char *ubase, const char *user, json_t *ap, struct sm_error *err)
{
	const char *name = json_string_value(json_object_get(ap, "name"));
	const char *hint = "switch this user to the exec credential plugin that replaces it (users[].user.exec)";
	if (name && !strcmp(name, "gcp"))
		hint = "install gke-gcloud-auth-plugin and run `gcloud container clusters get-credentials CLUSTER` to "
		       "rewrite this user as an exec plugin";
	else if (name && !strcmp(name, "azure"))
		hint = "install kubelogin and run `kubelogin convert-kubeconfig` to rewrite this user as an exec plugin";
	else if (name && !strcmp(name, "oidc"))
		hint = "use an OIDC exec plugin such as kubelogin (`kubectl oidc-login`) in users[].user.exec instead";
	char ptr[200], msg[512];
	snprintf(ptr, sizeof ptr, "%s/auth-provider", ubase);
	snprintf(msg, sizeof msg, "user \"%s\": the auth-provider \"%s\" is not supported (kubectl removed auth providers); %s",
		 user, name ? name : "?", hint);
	pos_err(err, f, ptr, msg);
}

static char **str_list(struct kc_file *f, const char *base, json_t *arr, const char *key, size_t *n, struct sm_error *err)
{
	json_t *v = json_object_get(arr, key);
	*n = 0;
	if (!v || json_is_null(v))
		return calloc(1, sizeof(char *));
	char ptr[256], msg[160];
	snprintf(ptr, sizeof ptr, "%s/%s", base, key);
	if (!json_is_array(v)) {
		snprintf(msg, sizeof msg, "exec %s must be a list of strings", key);
		pos_err(err, f, ptr, msg);
		return NULL;
	}
	char **out = calloc(json_array_size(v) + 1, sizeof *out);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			snprintf(ptr, sizeof ptr, "%s/%s/%zu", base, key, i);
			snprintf(msg, sizeof msg, "exec %s must be a list of strings", key);
			pos_err(err, f, ptr, msg);
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
		out[i] = strdup(json_string_value(e));
	}
	*n = json_array_size(v);
	return out;
}

/* Reads users[].user.exec (and the cluster's exec extension, for provideClusterInfo). NULL with err filled. */
static struct kube_exec *parse_exec(struct kc_file *f, const char *ubase, const char *user, json_t *ex, json_t *cl,
				    struct sm_error *err)
{
	char base[200], ptr[256];
	snprintf(base, sizeof base, "%s/exec", ubase);
	if (!json_is_object(ex)) {
		pos_err(err, f, base, "exec must be a mapping");
		return NULL;
	}
	struct kube_exec *e = calloc(1, sizeof *e);
	e->user = strdup(user);
	const char *av, *cmd, *hint, *mode;
	if (get_str(f, base, ex, "apiVersion", &av, err) || get_str(f, base, ex, "command", &cmd, err) ||
	    get_str(f, base, ex, "installHint", &hint, err) ||
	    get_str(f, base, ex, "interactiveMode", &mode, err))
		goto fail;
	if (!cmd || !*cmd) {
		pos_err(err, f, base, "exec needs a command");
		goto fail;
	}
	int v1 = av && !strcmp(av, "client.authentication.k8s.io/v1");
	if (!av || (!v1 && strcmp(av, "client.authentication.k8s.io/v1beta1"))) {
		snprintf(ptr, sizeof ptr, "%s%s", base, av ? "/apiVersion" : "");
		pos_err(err, f, ptr,
			"exec apiVersion must be client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1");
		goto fail;
	}
	e->api_version = strdup(av);
	/* a command with a slash but not absolute is relative to the kubeconfig, as client-go resolves it */
	e->command = strchr(cmd, '/') ? resolve_path(f, cmd) : strdup(cmd);
	e->install_hint = hint && *hint ? strdup(hint) : NULL;
	if (!mode || !*mode) {
		if (v1) {
			snprintf(ptr, sizeof ptr, "%s", base);
			pos_err(err, f, ptr,
				"exec interactiveMode must be set for client.authentication.k8s.io/v1 (Never, IfAvailable or Always)");
			goto fail;
		}
		e->interactive = KUBE_EXEC_IF_AVAILABLE;
	} else if (!strcmp(mode, "Never"))
		e->interactive = KUBE_EXEC_NEVER;
	else if (!strcmp(mode, "IfAvailable"))
		e->interactive = KUBE_EXEC_IF_AVAILABLE;
	else if (!strcmp(mode, "Always"))
		e->interactive = KUBE_EXEC_ALWAYS;
	else {
		snprintf(ptr, sizeof ptr, "%s/interactiveMode", base);
		pos_err(err, f, ptr, "exec interactiveMode must be Never, IfAvailable or Always");
		goto fail;
	}
	json_t *pci = json_object_get(ex, "provideClusterInfo");
	if (pci && !json_is_boolean(pci) && !json_is_null(pci)) {
		snprintf(ptr, sizeof ptr, "%s/provideClusterInfo", base);
		pos_err(err, f, ptr, "exec provideClusterInfo must be true or false");
		goto fail;
	}
	e->provide_cluster_info = json_is_true(pci);
	e->args = str_list(f, base, ex, "args", &e->nargs, err);
	if (!e->args)
		goto fail;
	json_t *env = json_object_get(ex, "env");
	if (env && !json_is_null(env)) {
		snprintf(ptr, sizeof ptr, "%s/env", base);
		if (!json_is_array(env)) {
			pos_err(err, f, ptr, "exec env must be a list of {name, value}");
			goto fail;
		}
		e->env = calloc(json_array_size(env) + 1, sizeof *e->env);
		size_t i;
		json_t *kv;
		json_array_foreach(env, i, kv) {
			const char *n = json_string_value(json_object_get(kv, "name"));
			const char *v = json_string_value(json_object_get(kv, "value"));
			if (!n || !*n || strchr(n, '=') || !v) {
				snprintf(ptr, sizeof ptr, "%s/env/%zu", base, i);
				pos_err(err, f, ptr, "each exec env entry needs a name and a string value");
				goto fail;
			}
			if (asprintf(&e->env[e->nenv], "%s=%s", n, v) < 0)
				goto fail;
			e->nenv++;
		}
	}
	/* clusters[].cluster.extensions[name=client.authentication.k8s.io/exec].extension -> spec.cluster.config */
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(cl, "extensions"), i, x) {
		const char *n = json_string_value(json_object_get(x, "name"));
		if (n && !strcmp(n, "client.authentication.k8s.io/exec") && json_object_get(x, "extension"))
			e->cluster_config = json_dumps(json_object_get(x, "extension"), JSON_COMPACT | JSON_ENCODE_ANY);
	}
	return e;
fail:
	kube_exec_free(e);
	return NULL;
}

static int resolve(struct kc_file *files, size_t n, const char *context, struct kube_config *cfg, struct sm_error *err)
{
	const char *cur = context;
	for (size_t i = 0; !cur && i < n; i++) {
		json_t *c = json_object_get(files[i].doc, "current-context");
		if (json_is_string(c) && *json_string_value(c))
			cur = json_string_value(c);
	}
	if (!cur) {
		sm_error_set(err, NULL, 0, 0, "%s: no context given and no current-context set", n == 1 ? files[0].path : "kubeconfig");
		return -1;
	}
	struct kc_file *cf, *uf = NULL, *lf;
	size_t ci, ui = 0, li;
	json_t *ctx = find_entry(files, n, "contexts", "context", cur, &cf, &ci);
	if (!ctx) {
		sm_error_set(err, NULL, 0, 0, "context \"%s\" not found in %s", cur, n == 1 ? files[0].path : "the kubeconfig files");
		return -1;
	}
	char base[128];
	snprintf(base, sizeof base, "0/contexts/%zu/context", ci);
	const char *cluster, *user, *ns;
	if (get_str(cf, base, ctx, "cluster", &cluster, err) || get_str(cf, base, ctx, "user", &user, err) ||
	    get_str(cf, base, ctx, "namespace", &ns, err))
		return -1;
	if (!cluster || !*cluster) {
		pos_err(err, cf, base, "context has no cluster");
		return -1;
	}
	json_t *cl = find_entry(files, n, "clusters", "cluster", cluster, &lf, &li);
	if (!cl) {
		char msg[512];
		snprintf(msg, sizeof msg, "context \"%s\" names cluster \"%s\", which is not defined", cur, cluster);
		pos_err(err, cf, base, msg);
		return -1;
	}
	json_t *us = NULL;
	if (user && *user) {
		us = find_entry(files, n, "users", "user", user, &uf, &ui);
		if (!us) {
			char msg[512];
			snprintf(msg, sizeof msg, "context \"%s\" names user \"%s\", which is not defined", cur, user);
			pos_err(err, cf, base, msg);
			return -1;
		}
	}
	cfg->context = strdup(cur);
	cfg->cluster = strdup(cluster);
	cfg->user = xstrdup(user);
	cfg->namespace = ns && *ns ? strdup(ns) : NULL;

	char cbase[128];
	snprintf(cbase, sizeof cbase, "0/clusters/%zu/cluster", li);
	const char *server, *ca;
	if (get_str(lf, cbase, cl, "server", &server, err) ||
	    get_str(lf, cbase, cl, "certificate-authority", &ca, err) ||
	    get_data(lf, cbase, cl, "certificate-authority-data", &cfg->ca_data, &cfg->ca_data_len, err))
		return -1;
	if (!server || !*server) {
		pos_err(err, lf, cbase, "cluster has no server");
		return -1;
	}
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)) {
		char ptr[160];
		snprintf(ptr, sizeof ptr, "%s/server", cbase);
		pos_err(err, lf, ptr, "server must be an http:// or https:// URL");
		return -1;
	}
	cfg->server = strdup(server);
	size_t sl = strlen(cfg->server);
	while (sl > 8 && cfg->server[sl - 1] == '/')
		cfg->server[--sl] = 0;
	cfg->ca_file = resolve_path(lf, ca);
	json_t *ins = json_object_get(cl, "insecure-skip-tls-verify");
	if (ins && !json_is_boolean(ins) && !json_is_null(ins)) {
		char ptr[160];
		snprintf(ptr, sizeof ptr, "%s/insecure-skip-tls-verify", cbase);
		pos_err(err, lf, ptr, "insecure-skip-tls-verify must be true or false");
		return -1;
	}
	cfg->insecure = json_is_true(ins);
	const char *proxy, *sni;
	if (get_str(lf, cbase, cl, "proxy-url", &proxy, err) ||
	    get_str(lf, cbase, cl, "tls-server-name", &sni, err))
		return -1;
	if (proxy && *proxy) {
		if (strncmp(proxy, "http://", 7) && strncmp(proxy, "https://", 8) && strncmp(proxy, "socks5://", 9)) {
			char ptr[160];
			snprintf(ptr, sizeof ptr, "%s/proxy-url", cbase);
			pos_err(err, lf, ptr, "proxy-url must be an http://, https:// or socks5:// URL");
			return -1;
		}
		cfg->proxy_url = strdup(proxy);
	}
	cfg->tls_server_name = sni && *sni ? strdup(sni) : NULL;
	json_t *dc = json_object_get(cl, "disable-compression");
	if (dc && !json_is_boolean(dc) && !json_is_null(dc)) {
		char ptr[160];
		snprintf(ptr, sizeof ptr, "%s/disable-compression", cbase);
		pos_err(err, lf, ptr, "disable-compression must be true or false");
		return -1;
	}
	cfg->disable_compression = json_is_true(dc);

	if (us) {
		char ubase[128];
		snprintf(ubase, sizeof ubase, "0/users/%zu/user", ui);
		const char *tok, *tokf, *cert, *key, *un, *pw;
		if (get_str(uf, ubase, us, "token", &tok, err) ||
		    get_str(uf, ubase, us, "tokenFile", &tokf, err) ||
		    get_str(uf, ubase, us, "client-certificate", &cert, err) ||
		    get_str(uf, ubase, us, "client-key", &key, err) ||
		    get_str(uf, ubase, us, "username", &un, err) ||
		    get_str(uf, ubase, us, "password", &pw, err) ||
		    get_data(uf, ubase, us, "client-certificate-data", &cfg->cert_data, &cfg->cert_data_len, err) ||
		    get_data(uf, ubase, us, "client-key-data", &cfg->key_data, &cfg->key_data_len, err))
			return -1;
		if (json_object_get(us, "auth-provider") && !json_is_null(json_object_get(us, "auth-provider"))) {
			auth_provider_err(uf, ubase, user, json_object_get(us, "auth-provider"), err);
			return -1;
		}
		json_t *ex = json_object_get(us, "exec");
		if (ex && !json_is_null(ex)) {
			cfg->exec = parse_exec(uf, ubase, user, ex, cl, err);
			if (!cfg->exec)
				return -1;
		}
		cfg->token = tok && *tok ? strdup(tok) : NULL;
		cfg->token_file = resolve_path(uf, tokf);
		cfg->cert_file = resolve_path(uf, cert);
		cfg->key_file = resolve_path(uf, key);
		cfg->username = xstrdup(un);
		cfg->password = xstrdup(pw);
		if ((cfg->cert_file || cfg->cert_data) != (cfg->key_file || cfg->key_data)) {
			pos_err(err, uf, ubase, "a client certificate needs a client key and the other way round");
			return -1;
		}
	}
	return 0;
}

static int load_files(struct kc_file *files, size_t n, const char *context, struct kube_config *cfg, struct sm_error *err)
{
	memset(cfg, 0, sizeof *cfg);
	int rc = resolve(files, n, context, cfg, err);
	if (rc)
		kubeconfig_free(cfg);
	return rc;
}

int kubeconfig_load_text(const char *text, size_t len, const char *name, const char *context,
			 struct kube_config *cfg, struct sm_error *err)
{
	struct kc_file f = {.path = strdup(name)};
	const char *slash = strrchr(name, '/');
	f.dir = slash ? strndup(name, (size_t)(slash - name) + (slash == name)) : NULL;
	memset(cfg, 0, sizeof *cfg);
	int rc = kc_file_parse(&f, text, len, name, err);
	if (!rc)
		rc = load_files(&f, 1, context, cfg, err);
	kc_file_free(&f);
	return rc;
}

/* Reads and parses one file into f. Returns 0, 1 when missing (and may_miss), -1 on error. */
static int open_file(struct kc_file *f, const char *path, int may_miss, struct sm_error *err)
{
	memset(f, 0, sizeof *f);
	size_t len;
	char *text = slurp(path, 0, &len);
	if (!text) {
		if (may_miss && errno == ENOENT)
			return 1;
		sm_error_set(err, path, 0, 0, "%s", strerror(errno));
		return -1;
	}
	f->path = strdup(path);
	const char *slash = strrchr(path, '/');
	f->dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : NULL;
	int rc = kc_file_parse(f, text, len, path, err);
	free(text);
	return rc;
}

static int in_cluster(struct kube_config *cfg, struct sm_error *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("APPDEPLOY_SERVICEACCOUNT_DIR");
	if (!dir || !*dir)
		dir = SA_DIR;
	char tok[4096];
	snprintf(tok, sizeof tok, "%s/token", dir);
	struct stat st;
	if (!host || !*host || !port || !*port || stat(tok, &st)) {
		sm_error_set(err, NULL, 0, 0,
			"no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a cluster");
		return -1;
	}
	memset(cfg, 0, sizeof *cfg);
	cfg->in_cluster = 1;
	cfg->context = strdup("in-cluster");
	int v6 = strchr(host, ':') != NULL;
	if (asprintf(&cfg->server, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port) < 0)
		cfg->server = NULL;
	cfg->token_file = strdup(tok);
	char p[4096];
	snprintf(p, sizeof p, "%s/ca.crt", dir);
	if (!stat(p, &st))
		cfg->ca_file = strdup(p);
	snprintf(p, sizeof p, "%s/namespace", dir);
	char *ns = slurp(p, 0, NULL);
	if (ns) {
		ns[strcspn(ns, " \r\n\t")] = 0;
		if (*ns)
			cfg->namespace = ns;
		else
			free(ns);
	}
	return 0;
}

int kubeconfig_load(const char *path, const char *context, struct kube_config *cfg, struct sm_error *err)
{
	memset(cfg, 0, sizeof *cfg);
	if (path && *path) {
		struct kc_file f;
		int rc = open_file(&f, path, 0, err);
		if (!rc)
			rc = load_files(&f, 1, context, cfg, err);
		kc_file_free(&f);
		return rc;
	}
	const char *env = getenv("KUBECONFIG");
	char *list = NULL;
	if (env && *env) {
		list = strdup(env);
	} else if (getenv("HOME")) {
		if (asprintf(&list, "%s/.kube/config", getenv("HOME")) < 0)
			list = NULL;
	}
	struct kc_file files[32];
	size_t n = 0;
	int rc = 0;
	for (char *save = NULL, *p = list ? strtok_r(list, ":", &save) : NULL; p && n < 32;
	     p = strtok_r(NULL, ":", &save)) {
		int r = open_file(&files[n], p, 1, err);
		if (r < 0) {
			kc_file_free(&files[n]);
			rc = -1;
			break;
		}
		if (r == 0)
			n++;
	}
	free(list);
	if (!rc && n)
		rc = load_files(files, n, context, cfg, err);
	else if (!rc && !n)
		rc = context && *context ? (sm_error_set(err, NULL, 0, 0, "context \"%s\": no kubeconfig file found", context), -1)
					 : in_cluster(cfg, err);
	for (size_t i = 0; i < n; i++)
		kc_file_free(&files[i]);
	return rc;
}

int kubeconfig_token(const struct kube_config *cfg, char **out, struct sm_error *err)
{
	*out = NULL;
	if (cfg->token) {
		*out = strdup(cfg->token);
		return 0;
	}
	if (!cfg->token_file)
		return 0;
	char *t = slurp(cfg->token_file, 0, NULL);
	if (!t) {
		sm_error_set(err, NULL, 0, 0, "token file %s: %s", cfg->token_file, strerror(errno));
		return -1;
	}
	size_t n = strlen(t);
	while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
		t[--n] = 0;
	*out = t;
	return 0;
}

static void wipe_free(char *s, size_t n)
{
	if (s) {
		explicit_bzero(s, n ? n : strlen(s));
		free(s);
	}
}

void kubeconfig_free(struct kube_config *cfg)
{
	free(cfg->context);
	free(cfg->cluster);
	free(cfg->user);
	free(cfg->server);
	free(cfg->namespace);
	free(cfg->ca_file);
	free(cfg->ca_data);
	wipe_free(cfg->token, 0);
	free(cfg->token_file);
	free(cfg->cert_file);
	free(cfg->key_file);
	free(cfg->cert_data);
	wipe_free(cfg->key_data, cfg->key_data_len);
	free(cfg->username);
	wipe_free(cfg->password, 0);
	free(cfg->proxy_url);
	free(cfg->tls_server_name);
	kube_exec_free(cfg->exec);
	memset(cfg, 0, sizeof *cfg);
}

static char **dup_list(char *const *v, size_t n)
{
	char **out = calloc(n + 1, sizeof *out);
	for (size_t i = 0; out && i < n; i++)
		out[i] = strdup(v[i]);
	return out;
}

struct kube_exec *kube_exec_dup(const struct kube_exec *e)
{
	if (!e)
		return NULL;
	struct kube_exec *d = calloc(1, sizeof *d);
	d->api_version = xstrdup(e->api_version);
	d->command = xstrdup(e->command);
	d->args = dup_list(e->args, e->nargs);
	d->nargs = e->nargs;
	d->env = dup_list(e->env, e->nenv);
	d->nenv = e->nenv;
	d->install_hint = xstrdup(e->install_hint);
	d->interactive = e->interactive;
	d->provide_cluster_info = e->provide_cluster_info;
	d->cluster_config = xstrdup(e->cluster_config);
	d->user = xstrdup(e->user);
	return d;
}

void kube_exec_free(struct kube_exec *e)
{
	if (!e)
		return;
	free(e->api_version);
	free(e->command);
	for (size_t i = 0; e->args && i < e->nargs; i++)
		free(e->args[i]);
	free(e->args);
	for (size_t i = 0; e->env && i < e->nenv; i++)
		wipe_free(e->env[i], 0); /* plugin env may carry secrets (client ids) */
	free(e->env);
	free(e->install_hint);
	free(e->cluster_config);
	free(e->user);
	free(e);
}
