/* ownership.c — a set's origin (git remote + path, or absolute path), its inventory ConfigMap, and who owns a live object. */
#include "ownership.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "log.h"

#include "render.h"
#include "sha256.h"

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

/* ---------------------------------------------------------------- origin */

static char *read_small(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = malloc(65536);
	size_t n = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = 0;
	return buf;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
}

/* path joined to base unless absolute; malloc'd */
static char *join(const char *base, const char *path)
{
	char *out;
	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s/%s", base, path) < 0)
		return NULL;
	return out;
}

/* The git directory holding the shared config for the work tree at top (".git" is a directory,
 * or a file "gitdir: X" in linked work trees and submodules, whose "commondir" leads to the
 * main one). malloc'd, or NULL when top is not a work tree's top. */
static char *git_common_dir(const char *top)
{
	char *dotgit = join(top, ".git");
	struct stat st;
	if (!dotgit || stat(dotgit, &st)) {
		free(dotgit);
		return NULL;
	}
	if (S_ISDIR(st.st_mode))
		return dotgit;
	char *text = read_small(dotgit);
	free(dotgit);
	if (!text || strncmp(text, "gitdir:", 7)) {
		free(text);
		return NULL;
	}
	char *p = text + 7;
	while (*p == ' ')
		p++;
	rstrip(p);
	char *gitdir = join(top, p);
	free(text);
	if (!gitdir)
		return NULL;
	char *cdpath = join(gitdir, "commondir");
	char *cd = cdpath ? read_small(cdpath) : NULL;
	free(cdpath);
	if (cd) {
		rstrip(cd);
		char *common = join(gitdir, cd);
		free(cd);
		free(gitdir);
		return common;
	}
	return gitdir;
}

char *own_git_remote_url(const char *config)
{
	char *text = strdup(config);
	if (!text)
		return NULL;
	char *url = NULL;
	int in_origin = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && !url; line = strtok_r(NULL, "\n", &save)) {
		while (isspace((unsigned char)*line))
			line++;
		rstrip(line);
		if (*line == '[') {
			in_origin = !strcmp(line, "[remote \"origin\"]");
			continue;
		}
		if (!in_origin || strncmp(line, "url", 3))
			continue;
		char *p = line + 3;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '=')
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		url = strdup(p);
	}
	free(text);
	if (!url)
		return NULL;
	/* https://user:token@host/x -> https://host/x: a token must never reach the cluster or a log */
	char *scheme = strstr(url, "://");
	if (scheme) {
		/* the userinfo ends at the last '@' before the path (a password may hold an '@' too) */
		char *host = scheme + 3, *slash = strchr(host, '/'), *at = NULL;
		for (char *p = host; *p && (!slash || p < slash); p++)
			if (*p == '@')
				at = p;
		if (at)
			memmove(host, at + 1, strlen(at + 1) + 1);
	}
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		url[--n] = 0;
	if (n > 4 && !strcmp(url + n - 4, ".git"))
		url[n - 4] = 0;
	return url;
}

/* remote "origin"'s url from the git config in common; malloc'd or NULL. */
static char *origin_url(const char *common)
{
	char *cfg = join(common, "config");
	char *text = cfg ? read_small(cfg) : NULL;
	free(cfg);
	char *url = text ? own_git_remote_url(text) : NULL;
	free(text);
	return url;
}

char *own_origin(const char *dir)
{
	char *abs = realpath(dir, NULL);
	char *out = NULL;
	if (!abs)
		return asprintf(&out, "path:%s", dir) < 0 ? NULL : out;
	/* walk up to the work tree's top */
	char top[PATH_MAX];
	snprintf(top, sizeof top, "%s", abs);
	for (;;) {
		char *common = git_common_dir(top);
		if (common) {
			char *url = origin_url(common);
			free(common);
			if (url) {
				const char *rel = abs + strlen(top);
				while (*rel == '/')
					rel++;
				if (asprintf(&out, "git:%s//%s", url, *rel ? rel : ".") < 0)
					out = NULL;
				free(url);
				free(abs);
				return out;
			}
			break; /* a repository without a remote: its path is all there is */
		}
		char *slash = strrchr(top, '/');
		if (!slash || slash == top)
			break;
		*slash = 0;
	}
	if (asprintf(&out, "path:%s", abs) < 0)
		out = NULL;
	free(abs);
	return out;
}

/* ---------------------------------------------------------------- names and keys */

char *own_inventory_name(const char *set)
{
	char clean[64];
	size_t n = 0;
	int changed = 0;
	for (const char *p = set; *p && n < sizeof clean - 1; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a'), changed = 1;
		else if (!(isalnum((unsigned char)c) || c == '-' || c == '.'))
			c = '-', changed = 1;
		clean[n++] = c;
	}
	clean[n] = 0;
	char *out;
	if (changed) {
		char hex[65];
		sha256_hex(set, strlen(set), hex);
		hex[8] = 0;
		if (asprintf(&out, "appdeploy-set-%s-%s", clean, hex) < 0)
			return NULL;
	} else if (asprintf(&out, "appdeploy-set-%s", clean) < 0)
		return NULL;
	return out;
}

char *own_key(const char *api_version, const char *kind, const char *ns, const char *name)
{
	const char *slash = strrchr(api_version ? api_version : "", '/');
	int glen = slash ? (int)(slash - api_version) : 0;
	char *k;
	if (asprintf(&k, "%.*s/%s/%s/%s", glen, api_version ? api_version : "", kind ? kind : "", ns ? ns : "",
		     name ? name : "") < 0)
		return NULL;
	return k;
}

/* ---------------------------------------------------------------- entries */

void own_entries_add(struct own_entry **v, size_t *n, const char *api_version, const char *kind, const char *ns,
		     const char *name, const char *uid)
{
	char *key = own_key(api_version, kind, ns, name);
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].key, key)) {
			free(key);
			if (uid && *uid) {
				free((*v)[i].uid);
				(*v)[i].uid = strdup(uid);
			}
			free((*v)[i].api_version);
			(*v)[i].api_version = xstrdup(api_version);
			return;
		}
	struct own_entry *nv = realloc(*v, (*n + 1) * sizeof **v);
	if (!nv)
		abort();
	*v = nv;
	nv[*n] = (struct own_entry){xstrdup(api_version), xstrdup(kind), xstrdup(ns), xstrdup(name), xstrdup(uid), key};
	(*n)++;
}

void own_entries_free(struct own_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].api_version);
		free(v[i].kind);
		free(v[i].ns);
		free(v[i].name);
		free(v[i].uid);
		free(v[i].key);
	}
	free(v);
}

const struct own_entry *own_entries_find(const struct own_entry *v, size_t n, const char *key)
{
	for (size_t i = 0; key && i < n; i++)
		if (!strcmp(v[i].key, key))
			return &v[i];
	return NULL;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct own_entry *)a)->key, ((const struct own_entry *)b)->key);
}

char *own_entries_text(struct own_entry *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof *v, entry_cmp);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %s %s %s %s\n", v[i].api_version, v[i].kind, *v[i].ns ? v[i].ns : "-", v[i].name,
			*v[i].uid ? v[i].uid : "-");
	fclose(f);
	return buf;
}

void own_entries_parse(const char *text, struct own_entry **v, size_t *n)
{
	char *copy = strdup(text ? text : ""), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char av[256], kind[256], ns[256], name[512], uid[128];
		if (sscanf(line, "%255s %255s %255s %511s %127s", av, kind, ns, name, uid) != 5)
			continue;
		/* no object's kind, namespace or name holds a '/', nor its apiVersion two: such a line (an edit of
		 * the ConfigMap) names nothing we applied, and its key would read as another entry's */
		const char *slash = strchr(av, '/');
		if ((slash && strchr(slash + 1, '/')) || strchr(kind, '/') || strchr(ns, '/') || strchr(name, '/'))
			continue;
		own_entries_add(v, n, av, kind, strcmp(ns, "-") ? ns : "", name, strcmp(uid, "-") ? uid : "");
	}
	free(copy);
}

/* ---------------------------------------------------------------- the inventory ConfigMap */

static char *inventory_path(const char *ns, const char *set, const char *query)
{
	char *name = own_inventory_name(set), *p;
	if (asprintf(&p, "/api/v1/namespaces/%s/configmaps/%s%s%s", ns, name, query ? "?" : "", query ? query : "") < 0)
		p = NULL;
	free(name);
	return p;
}

int own_inventory_load(struct kube *k, const char *ns, const char *set, struct own_inventory *inv, struct sm_error *err)
{
	memset(inv, 0, sizeof *inv);
	struct kube_req r = {.method = KUBE_GET, .path = inventory_path(ns, set, NULL)};
	kube_do(k, &r, 1);
	if (r.status == 404) {
		kube_req_clear(&r);
		return 0;
	}
	if (r.status != 200) {
		char *name = own_inventory_name(set);
		sm_error_set(err, NULL, 0, 0, "reading the inventory of set %s (configmap %s): %s", set, name, r.err);
		free(name);
		kube_req_clear(&r);
		return -1;
	}
	json_t *data = json_object_get(r.response, "data");
	inv->found = 1;
	inv->origin = xstrdup(str(data, "origin"));
	inv->text = xstrdup(str(data, "objects"));
	own_entries_parse(inv->text, &inv->v, &inv->n);
	kube_req_clear(&r);
	return 0;
}

void own_inventory_free(struct own_inventory *inv)
{
	free(inv->origin);
	free(inv->text);
	own_entries_free(inv->v, inv->n);
	memset(inv, 0, sizeof *inv);
}

int own_inventory_save(struct kube *k, const char *ns, const char *set, const char *origin, struct own_entry *v,
		       size_t n, const struct own_inventory *prev, int *written, struct sm_error *err)
{
	*written = 0;
	char *text = own_entries_text(v, n);
	if (!text) {
		sm_error_set(err, NULL, 0, 0, "out of memory");
		return -1;
	}
	if (prev && prev->found && prev->origin && !strcmp(prev->origin, origin) && prev->text && !strcmp(prev->text, text)) {
		free(text);
		return 0;
	}
	char *name = own_inventory_name(set);
	json_t *body = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
				 "ConfigMap", "metadata", "name", name, "namespace", ns, "labels", RENDER_LABEL_MANAGED_BY,
				 RENDER_MANAGED_BY, OWN_LABEL_INVENTORY, render_valid_label_value(set) ? set : "invalid",
				 "data", "set", set, "origin", origin, "objects", text);
	free(text);
	/* our own object: forcing takes back any field someone else edited */
	struct kube_req r = {.method = KUBE_APPLY, .path = inventory_path(ns, set, "fieldManager=appdeploy&force=true"),
			     .body = body};
	kube_do(k, &r, 1);
	int rc = r.status >= 200 && r.status <= 299 ? 0 : -1;
	if (rc)
		sm_error_set(err, NULL, 0, 0, "writing the inventory of set %s (configmap %s): %s", set, name, r.err);
	else
		*written = 1;
	kube_req_clear(&r);
	json_decref(body);
	free(name);
	return rc;
}

/* ---------------------------------------------------------------- who owns what */

int own_labelled(json_t *o, const char *set)
{
	json_t *labels = json_object_get(json_object_get(o, "metadata"), "labels");
	const char *m = str(labels, RENDER_LABEL_MANAGED_BY), *s = str(labels, RENDER_LABEL_SET);
	return m && s && !strcmp(m, RENDER_MANAGED_BY) && !strcmp(s, set);
}

enum own_state own_classify(json_t *live, const char *set, const struct own_inventory *inv, char *owner,
			    size_t ownerlen)
{
	json_t *md = json_object_get(live, "metadata");
	json_t *labels = json_object_get(md, "labels");
	const char *m = str(labels, RENDER_LABEL_MANAGED_BY), *s = str(labels, RENDER_LABEL_SET);
	const char *uid = str(md, "uid");
	snprintf(owner, ownerlen, "set \"%s\"", set);
	if (own_labelled(live, set))
		return OWN_OURS;
	for (size_t i = 0; inv && uid && i < inv->n; i++)
		if (*inv->v[i].uid && !strcmp(inv->v[i].uid, uid))
			return OWN_OURS;
	if (m && !strcmp(m, RENDER_MANAGED_BY) && s) {
		snprintf(owner, ownerlen, "appdeploy set \"%s\"", s);
		return OWN_OTHER_SET;
	}
	if (m) {
		snprintf(owner, ownerlen, "%s (label %s)", m, RENDER_LABEL_MANAGED_BY);
		return OWN_UNLABELLED;
	}
	/* no label says who made it: the field managers do */
	char buf[256] = "";
	size_t i, len = 0;
	json_t *f;
	json_array_foreach(json_object_get(md, "managedFields"), i, f) {
		const char *mgr = str(f, "manager");
		if (mgr && len < sizeof buf - 1 && !strstr(buf, mgr))
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? ", " : "", mgr);
	}
	if (*buf)
		snprintf(owner, ownerlen, "field manager%s %s", strchr(buf, ',') ? "s" : "", buf);
	else
		snprintf(owner, ownerlen, "no owner recorded");
	return OWN_UNLABELLED;
}

int own_recreate_allowed(json_t *rendered, json_t *live, const char *group, const char *kind)
{
	const char *ann = str(json_object_get(json_object_get(rendered, "metadata"), "annotations"), OWN_ANNOTATION_RECREATE);
	if (ann && !strcmp(ann, "true"))
		return 1;
	static const char *apps[] = {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", NULL};
	static const char *batch[] = {"Job", "CronJob", NULL};
	const char *const *list = !strcmp(group, "apps") ? apps : !strcmp(group, "batch") ? batch : NULL;
	for (size_t i = 0; list && list[i]; i++)
		if (!strcmp(kind, list[i]))
			return 1;
	if (!*group && !strcmp(kind, "Service"))
		return 1;
	/* an immutable ConfigMap/Secret can only be replaced, and holds nothing the render does not */
	if (!*group && (!strcmp(kind, "ConfigMap") || !strcmp(kind, "Secret")))
		return json_is_true(json_object_get(rendered, "immutable")) || json_is_true(json_object_get(live, "immutable"));
	return 0;
}

/* ---------------------------------------------------------------- prune candidates */

int own_system_object(json_t *o, const char *kind)
{
	json_t *md = json_object_get(o, "metadata");
	if (json_array_size(json_object_get(md, "ownerReferences")))
		return 1;
	const char *name = str(md, "name");
	if (!name)
		return 1;
	if (kind && !strcmp(kind, "ServiceAccount") && !strcmp(name, "default"))
		return 1;
	if (kind && !strcmp(kind, "ConfigMap") && !strcmp(name, "kube-root-ca.crt"))
		return 1;
	return 0;
}

char *own_selector(const char *set)
{
	char *s;
	if (asprintf(&s, "%s=%s,%s=%s", RENDER_LABEL_MANAGED_BY, RENDER_MANAGED_BY, RENDER_LABEL_SET, set) < 0)
		return NULL;
	return s;
}

/* The resource serving an inventory entry's kind: its recorded apiVersion, else the group's
 * preferred version of the same kind. */
static const struct kube_resource *entry_resource(struct kube *k, const struct own_entry *e)
{
	const struct kube_resource *r = kube_find(k, e->api_version, e->kind);
	if (r)
		return r;
	const char *slash = strrchr(e->api_version, '/');
	size_t glen = slash ? (size_t)(slash - e->api_version) : 0;
	for (size_t i = 0; i < kube_resource_count(k); i++) {
		r = kube_resource_at(k, i);
		if (r->preferred && strlen(r->group) == glen && !strncmp(r->group, e->api_version, glen) &&
		    !strcmp(r->kind, e->kind))
			return r;
	}
	return NULL;
}

static const char *meta(json_t *o, const char *k)
{
	return str(json_object_get(o, "metadata"), k);
}

int own_prune_plan(struct kube *k, const struct own_inventory *inv, const char *const *rendered, size_t nrendered,
		   const char *ns, const char *set, FILE *notes, struct own_cand **out, size_t *nout, struct sm_error *err)
{
	struct own_cand *c = calloc(inv->n ? inv->n : 1, sizeof *c);
	size_t nc = 0;
	int rc = 0;
	char *invname = own_inventory_name(set);
	const struct kube_resource **kinds = calloc(inv->n ? inv->n : 1, sizeof *kinds);
	size_t nk = 0;
	for (size_t i = 0; i < inv->n; i++) {
		const struct own_entry *e = &inv->v[i];
		int is_rendered = 0;
		for (size_t j = 0; j < nrendered && !is_rendered; j++)
			is_rendered = !strcmp(rendered[j], e->key);
		if (is_rendered)
			continue;
		const struct kube_resource *r = entry_resource(k, e);
		if (!r) {
			if (!rc)
				sm_error_set(err, NULL, 0, 0,
					 "cannot prune %s %s/%s of set %s: the server's discovery has no kind %s in %s (an API "
					 "service that does not answer?); nothing of that kind was pruned. Fix the API service, "
					 "or remove the line from configmap/%s if the kind is gone for good",
					 e->kind, *e->ns ? e->ns : "(cluster)", e->name, set, e->kind, e->api_version, invname);
			diag_error(kube_diag(k), "cannot prune %s %s: the server's discovery has no kind %s in %s", e->kind, e->name, e->kind,
				  e->api_version);
			rc = -1;
			continue;
		}
		c[nc++] = (struct own_cand){e, r, NULL};
		size_t j;
		for (j = 0; j < nk && kinds[j] != r; j++)
			;
		if (j == nk)
			kinds[nk++] = r;
	}
	/* list the candidates' kinds, each with our selector, in the namespace or cluster-wide */
	char *sel = own_selector(set);
	json_t **items = calloc(nk ? nk : 1, sizeof *items);
	for (size_t j = 0; j < nk; j++) {
		struct sm_error lerr;
		if (kube_list_many(k, &kinds[j], 1, kinds[j]->namespaced ? ns : "", sel, &items[j], &lerr)) {
			diag_error(kube_diag(k), "cannot list %s to prune: %s", kinds[j]->plural, lerr.msg);
			if (!rc)
				sm_error_set(err, NULL, 0, 0, "cannot list %s to prune: %s; nothing of that kind was pruned",
					 kinds[j]->plural, lerr.msg);
			rc = -1;
			items[j] = NULL;
		}
	}
	free(sel);
	size_t w = 0;
	for (size_t i = 0; i < nc; i++) {
		size_t j;
		for (j = 0; j < nk && kinds[j] != c[i].res; j++)
			;
		if (!items[j])
			continue; /* kept: its kind could not be listed */
		size_t x;
		json_t *l, *found = NULL;
		json_array_foreach(items[j], x, l) {
			if (!strcmp(meta(l, "name") ? meta(l, "name") : "", c[i].e->name) &&
			    (!c[i].res->namespaced || !strcmp(meta(l, "namespace") ? meta(l, "namespace") : "", ns)))
				found = l;
		}
		const char *uid = found ? meta(found, "uid") : NULL;
		if (found && *c[i].e->uid && uid && strcmp(uid, c[i].e->uid)) {
			if (notes)
				fprintf(notes, "# %s %s: not pruned: it was replaced by another object (uid %s, the inventory has %s)\n",
					c[i].e->kind, c[i].e->name, uid, c[i].e->uid);
			found = NULL;
		}
		if (found && own_system_object(found, c[i].res->kind))
			found = NULL;
		if (found && !strcmp(c[i].res->kind, "Namespace") && !*c[i].res->group && !strcmp(c[i].e->name, ns)) {
			/* deleting it would delete every set's objects in it, not only ours */
			if (notes)
				fprintf(notes, "# namespace/%s not pruned: it is the namespace being applied to (delete it by hand "
					       "if it is no longer wanted)\n",
					ns);
			found = NULL;
		}
		if (found) {
			json_object_set_new(found, "apiVersion", json_string(c[i].res->api_version));
			json_object_set_new(found, "kind", json_string(c[i].res->kind));
			c[i].live = json_incref(found);
		}
		/* not found: gone already, or no longer ours: the inventory forgets it */
		c[w++] = c[i];
	}
	for (size_t j = 0; j < nk; j++)
		json_decref(items[j]);
	free(items);
	free(kinds);
	free(invname);
	*out = c;
	*nout = w;
	return rc;
}

void own_cands_free(struct own_cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(c[i].live);
	free(c);
}
