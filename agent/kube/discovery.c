/* discovery.c — which kinds the server serves: aggregated discovery (v2/v2beta1) or per group, cached on disk per server. */
#include "discovery.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "duration.h"
#include "errbuf.h"
#include "diag.h"
#include "log.h"

/* What client-go sends: aggregated v2, then v2beta1, then the plain documents. */
#define ACCEPT_AGGREGATED                                                                                 \
	"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"                            \
	"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
#define DEFAULT_TTL (6 * 3600.0)
#define CACHE_FORMAT 1

/* One discovery answer. Older ones stay alive (resource pointers handed out must stay valid). */
struct gen {
	struct kube_resource *res;
	size_t n, cap;
	struct gen *prev;
};

struct kube_discovery {
	struct gen *cur;     /* NULL before the first discovery */
	double checked;      /* monotonic time cur was last confirmed with the server */
	double max_age;      /* kube_set_discovery_max_age */
	int full;            /* cur was fetched in full from the server by this process */
	int aggregated;      /* the server answered aggregated discovery */
	char etag[128];      /* aggregated: the ETag of /apis (the freshness check's If-None-Match) */
	char *groups;        /* per-group: the /apis group list (compact JSON) the resources came from */
	json_t *stale;       /* aggregated: {"groups": [...]} of group versions marked Stale, asked per group */
};

static void gen_free(struct gen *g)
{
	while (g) {
		struct gen *p = g->prev;
		for (size_t i = 0; i < g->n; i++) {
			struct kube_resource *r = &g->res[i];
			free(r->group);
			free(r->version);
			free(r->api_version);
			free(r->kind);
			free(r->plural);
		}
		free(g->res);
		free(g);
		g = p;
	}
}

void kube_discovery_free(struct kube_discovery *d)
{
	if (!d)
		return;
	gen_free(d->cur);
	free(d->groups);
	json_decref(d->stale);
	free(d);
}

static struct kube_discovery *state(struct kube *k)
{
	struct kube_discovery **slot = kube_discovery_slot(k);
	if (!*slot)
		*slot = calloc(1, sizeof **slot);
	return *slot;
}

/* Makes g the current answer (the previous one stays alive behind it). */
static void install(struct kube_discovery *d, struct gen *g)
{
	g->prev = d->cur;
	d->cur = g;
}

static void gen_add(struct gen *g, const char *group, const char *version, const char *kind, const char *plural,
		    int namespaced, int preferred, unsigned verbs)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct kube_resource *nr = realloc(g->res, cap * sizeof *nr);
		if (!nr)
			return;
		g->res = nr;
		g->cap = cap;
	}
	struct kube_resource *r = &g->res[g->n++];
	r->group = strdup(group);
	r->version = strdup(version);
	if (*group) {
		if (asprintf(&r->api_version, "%s/%s", group, version) < 0)
			r->api_version = NULL;
	} else {
		r->api_version = strdup(version);
	}
	r->kind = strdup(kind);
	r->plural = strdup(plural);
	r->namespaced = namespaced;
	r->preferred = preferred;
	r->verbs = verbs;
}

/* Copies g's resources of the core group ("" group) or of every other group into dst. */
static void gen_copy(struct gen *dst, const struct gen *src, int core)
{
	for (size_t i = 0; src && i < src->n; i++) {
		const struct kube_resource *r = &src->res[i];
		if (!*r->group == !!core)
			gen_add(dst, r->group, r->version, r->kind, r->plural, r->namespaced, r->preferred, r->verbs);
	}
}

/* Copies src's resources into dst but those of the group versions listed in except ({"groups": [...]}). */
static void gen_copy_except(struct gen *dst, const struct gen *src, json_t *except)
{
	for (size_t i = 0; src && i < src->n; i++) {
		const struct kube_resource *r = &src->res[i];
		int skip = 0;
		size_t j;
		json_t *e;
		json_array_foreach(json_object_get(except, "groups"), j, e) {
			const char *gname = json_string_value(json_object_get(e, "name"));
			const char *v = json_string_value(json_object_get(json_array_get(json_object_get(e, "versions"), 0), "version"));
			skip |= gname && v && !strcmp(gname, r->group) && !strcmp(v, r->version);
		}
		if (!skip)
			gen_add(dst, r->group, r->version, r->kind, r->plural, r->namespaced, r->preferred, r->verbs);
	}
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

/* An APIResourceList (per-group discovery) into g. */
static void add_resource_list(struct gen *g, const char *group, const char *version, int preferred, json_t *list)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(list, "resources"), i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *kind = json_string_value(json_object_get(e, "kind"));
		if (!name || !kind || strchr(name, '/'))
			continue; /* subresources (deployments/status) are not kinds of their own */
		gen_add(g, group, version, kind, name, json_is_true(json_object_get(e, "namespaced")), preferred,
			parse_verbs(json_object_get(e, "verbs")));
	}
}

static int is_aggregated(const struct kube_req *r)
{
	return r->status == 200 && strstr(r->content_type, "as=APIGroupDiscoveryList") && json_is_object(r->response);
}

/* An APIGroupDiscoveryList (aggregated discovery, apidiscovery.k8s.io v2 and v2beta1 share the shape) into g:
 * items[].metadata.name is the group, versions[] come in preference order, resources[] carry
 * resource/responseKind.kind/scope/verbs. A version marked Stale (its aggregated API service does not
 * answer) is not trusted: it goes into stale (an APIGroupList shape, may be NULL) to be asked per group. */
static void add_aggregated(struct gen *g, json_t *doc, json_t *stale)
{
	size_t i, j, l;
	json_t *item, *ver, *res;
	json_array_foreach(json_object_get(doc, "items"), i, item) {
		const char *group = json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
		if (!group)
			group = "";
		json_array_foreach(json_object_get(item, "versions"), j, ver) {
			const char *version = json_string_value(json_object_get(ver, "version"));
			if (!version)
				continue;
			const char *fresh = json_string_value(json_object_get(ver, "freshness"));
			if (fresh && !strcmp(fresh, "Stale")) {
				if (stale)
					json_array_append_new(json_object_get(stale, "groups"),
							      json_pack("{s:s, s:[{s:s}], s:{s:s}}", "name", group, "versions",
									"version", version, "preferredVersion", "version",
									j == 0 ? version : ""));
				continue;
			}
			json_array_foreach(json_object_get(ver, "resources"), l, res) {
				const char *plural = json_string_value(json_object_get(res, "resource"));
				const char *kind = json_string_value(json_object_get(json_object_get(res, "responseKind"), "kind"));
				const char *scope = json_string_value(json_object_get(res, "scope"));
				if (!plural || !kind || !*kind)
					continue;
				gen_add(g, group, version, kind, plural, scope && !strcmp(scope, "Namespaced"), j == 0,
					parse_verbs(json_object_get(res, "verbs")));
			}
		}
	}
}

/* ---------------------------------------------------------------- the disk cache */

static char *cache_path(struct kube *k)
{
	const char *server = kube_config_of(k)->server;
	const char *dir = getenv("APPDEPLOY_CACHE_DIR");
	char *base = NULL;
	if (dir && !strcmp(dir, "off"))
		return NULL;
	if (dir && *dir)
		base = strdup(dir);
	else if (getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME")) {
		if (asprintf(&base, "%s/appdeploy", getenv("XDG_CACHE_HOME")) < 0)
			base = NULL;
	} else if (getenv("HOME") && *getenv("HOME")) {
		if (asprintf(&base, "%s/.cache/appdeploy", getenv("HOME")) < 0)
			base = NULL;
	}
	if (!base || !server)
		return free(base), NULL;
	/* one file per server, named like kubectl's cache folders: host_port (and any path), unsafe bytes as _ */
	const char *s = strstr(server, "://");
	s = s ? s + 3 : server;
	char name[256];
	size_t n = 0;
	for (; *s && n < sizeof name - 1; s++)
		name[n++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
					   *s == '.' || *s == '-'
				       ? *s
				       : '_');
	name[n] = 0;
	char *p;
	if (asprintf(&p, "%s/discovery/%s%s.json", base, !strncmp(server, "http://", 7) ? "http_" : "", name) < 0)
		p = NULL;
	free(base);
	return p;
}

static int mkdirs(char *path)
{
	for (char *q = path + 1; *q; q++)
		if (*q == '/') {
			*q = 0;
			int r = mkdir(path, 0700);
			*q = '/';
			if (r && errno != EEXIST)
				return -1;
		}
	return 0;
}

static double ttl(void)
{
	const char *t = getenv("APPDEPLOY_DISCOVERY_TTL");
	return t && *t ? atof(t) : DEFAULT_TTL;
}

/* The resources of a cache file: [group, version, kind, plural, namespaced, preferred, verbs] each. */
static void add_cached(struct gen *g, json_t *doc)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(doc, "resources"), i, r) {
		const char *gr = json_string_value(json_array_get(r, 0)), *v = json_string_value(json_array_get(r, 1));
		const char *kind = json_string_value(json_array_get(r, 2)), *pl = json_string_value(json_array_get(r, 3));
		if (gr && v && kind && pl)
			gen_add(g, gr, v, kind, pl, json_is_true(json_array_get(r, 4)), json_is_true(json_array_get(r, 5)),
				(unsigned)json_integer_value(json_array_get(r, 6)));
	}
}

size_t kube_discovery_parse(const char *text, size_t len)
{
	json_t *doc = json_loadb(text, len, 0, NULL);
	if (!doc)
		return 0;
	struct gen *g = calloc(1, sizeof *g);
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *stale = json_pack("{s:[]}", "groups");
	if (kind && !strcmp(kind, "APIGroupDiscoveryList"))
		add_aggregated(g, doc, stale);
	else if (kind && !strcmp(kind, "APIResourceList"))
		add_resource_list(g, "example.com", "v1", 1, doc);
	else
		add_cached(g, doc);
	size_t n = g->n;
	for (size_t i = 0; i < n; i++)
		if (!g->res[i].api_version || !g->res[i].kind || !g->res[i].plural)
			abort(); /* every resource the parsers yield is complete */
	gen_free(g);
	json_decref(stale);
	json_decref(doc);
	return n;
}

/* Loads the cached answer when it exists, matches the server and is younger than the TTL. */
static int cache_load(struct kube *k, struct kube_discovery *d)
{
	char *path = cache_path(k);
	if (!path)
		return -1;
	json_t *doc = json_load_file(path, 0, NULL);
	free(path);
	if (!doc)
		return -1;
	const char *server = json_string_value(json_object_get(doc, "server"));
	double fetched = json_number_value(json_object_get(doc, "fetched"));
	int rc = -1;
	if (json_integer_value(json_object_get(doc, "format")) == CACHE_FORMAT && server &&
	    !strcmp(server, kube_config_of(k)->server) && (double)time(NULL) - fetched < ttl() &&
	    (double)time(NULL) >= fetched) {
		struct gen *g = calloc(1, sizeof *g);
		add_cached(g, doc);
		install(d, g);
		d->full = 0;
		d->aggregated = json_is_true(json_object_get(doc, "aggregated"));
		snprintf(d->etag, sizeof d->etag, "%s", json_string_value(json_object_get(doc, "etag")) ?: "");
		free(d->groups);
		const char *groups = json_string_value(json_object_get(doc, "groups"));
		d->groups = groups ? strdup(groups) : NULL;
		json_decref(d->stale);
		d->stale = json_incref(json_object_get(doc, "stale"));
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

/* Writes the current answer (atomically: a temporary file renamed over the old one). Failures only warn:
 * the cache is an optimisation. */
static void cache_save(struct kube *k, struct kube_discovery *d)
{
	char *path = cache_path(k);
	if (!path || !d->cur) {
		free(path);
		return;
	}
	json_t *res = json_array();
	for (size_t i = 0; i < d->cur->n; i++) {
		const struct kube_resource *r = &d->cur->res[i];
		json_array_append_new(res, json_pack("[s,s,s,s,b,b,I]", r->group, r->version, r->kind, r->plural,
						     r->namespaced, r->preferred, (json_int_t)r->verbs));
	}
	json_t *doc = json_pack("{s:i, s:s, s:f, s:b, s:s, s:o}", "format", CACHE_FORMAT, "server",
				kube_config_of(k)->server, "fetched", (double)time(NULL), "aggregated", d->aggregated,
				"etag", d->etag, "resources", res);
	if (d->groups)
		json_object_set_new(doc, "groups", json_string(d->groups));
	if (d->stale)
		json_object_set(doc, "stale", d->stale);
	char *tmp = NULL;
	if (mkdirs(path) || asprintf(&tmp, "%s.%d.tmp", path, (int)getpid()) < 0 || json_dump_file(doc, tmp, JSON_COMPACT) ||
	    rename(tmp, path)) {
		log_debug("discovery cache %s not written: %s", path, strerror(errno));
		if (tmp)
			unlink(tmp);
	}
	free(tmp);
	json_decref(doc);
	free(path);
}

/* ---------------------------------------------------------------- talking to the server */

/* /apis without the parts that do not change what it lists, for comparing two answers. */
static char *groups_text(json_t *apis)
{
	return json_dumps(json_object_get(apis, "groups"), JSON_COMPACT | JSON_SORT_KEYS);
}

/* Per-group discovery of the versions in core (an APIVersions) and/or apis (an APIGroupList) into g:
 * one request per group version, concurrently. */
static int fetch_per_group(struct kube *k, json_t *core, json_t *apis, struct gen *g, struct sm_error *err)
{
	size_t cap = 16, n = 0;
	struct kube_req *reqs = calloc(cap, sizeof *reqs);
	struct gv {
		char *group, *version;
		int preferred;
	} *gvs = calloc(cap, sizeof *gvs);
	size_t i, j;
	json_t *v, *gr;
#define GROW()                                                                   \
	do {                                                                     \
		if (n == cap) {                                                  \
			cap *= 2;                                                \
			reqs = realloc(reqs, cap * sizeof *reqs);                \
			gvs = realloc(gvs, cap * sizeof *gvs);                   \
		}                                                                \
		memset(&reqs[n], 0, sizeof reqs[n]);                             \
		reqs[n].method = KUBE_GET;                                       \
	} while (0)
	json_array_foreach(json_object_get(core, "versions"), i, v) {
		if (!json_is_string(v))
			continue;
		GROW();
		if (asprintf(&reqs[n].path, "/api/%s", json_string_value(v)) < 0)
			reqs[n].path = NULL;
		gvs[n] = (struct gv){strdup(""), strdup(json_string_value(v)), i == 0};
		n++;
	}
	json_array_foreach(json_object_get(apis, "groups"), i, gr) {
		const char *gname = json_string_value(json_object_get(gr, "name"));
		const char *pref = json_string_value(json_object_get(json_object_get(gr, "preferredVersion"), "version"));
		json_array_foreach(json_object_get(gr, "versions"), j, v) {
			const char *ver = json_string_value(json_object_get(v, "version"));
			if (!gname || !ver)
				continue;
			GROW();
			if (asprintf(&reqs[n].path, "/apis/%s/%s", gname, ver) < 0)
				reqs[n].path = NULL;
			gvs[n] = (struct gv){strdup(gname), strdup(ver), pref ? !strcmp(pref, ver) : j == 0};
			n++;
		}
	}
#undef GROW
	kube_do(k, reqs, n);
	int rc = 0;
	for (i = 0; i < n; i++) {
		/* a broken aggregated API (503) must not stop us; kubectl also only warns */
		if (reqs[i].status == 200)
			add_resource_list(g, gvs[i].group, gvs[i].version, gvs[i].preferred, reqs[i].response);
		else if (reqs[i].status == 401 || reqs[i].status == 403 || reqs[i].status == 0) {
			if (!rc)
				sm_error_set(err, NULL, 0, 0, "discovery %s: %s", reqs[i].path, reqs[i].err);
			rc = -1;
		} else
			diag_warn(kube_diag(k), "discovery %s: %s", reqs[i].path, reqs[i].err);
		kube_req_clear(&reqs[i]);
		free(gvs[i].group);
		free(gvs[i].version);
	}
	free(reqs);
	free(gvs);
	return rc;
}

/* Everything from the server: /api and /apis asking for the aggregated form (two requests), then per
 * group for whichever of the two came back in the old form. */
static int fetch_full(struct kube *k, struct kube_discovery *d, struct sm_error *err)
{
	struct kube_req r[2] = {{.method = KUBE_GET, .path = strdup("/api"), .accept = ACCEPT_AGGREGATED},
				{.method = KUBE_GET, .path = strdup("/apis"), .accept = ACCEPT_AGGREGATED}};
	kube_do(k, r, 2);
	int rc = 0;
	for (int i = 0; i < 2 && !rc; i++)
		if (r[i].status != 200 || !json_is_object(r[i].response)) {
			sm_error_set(err, NULL, 0, 0, "discovery: GET %s: %s", r[i].path,
				r[i].status == 200 ? "the answer is not JSON" : r[i].err);
			rc = -1;
		}
	if (!rc) {
		struct gen *g = calloc(1, sizeof *g);
		int agg_core = is_aggregated(&r[0]), agg_apis = is_aggregated(&r[1]);
		json_t *stale = json_pack("{s:[]}", "groups");
		if (agg_core)
			add_aggregated(g, r[0].response, NULL);
		if (agg_apis)
			add_aggregated(g, r[1].response, stale);
		if (!agg_core || !agg_apis)
			rc = fetch_per_group(k, agg_core ? NULL : r[0].response, agg_apis ? NULL : r[1].response, g, err);
		if (!rc && json_array_size(json_object_get(stale, "groups")))
			rc = fetch_per_group(k, NULL, stale, g, err);
		json_decref(d->stale);
		d->stale = json_array_size(json_object_get(stale, "groups")) ? stale : (json_decref(stale), NULL);
		if (rc) {
			gen_free(g);
		} else {
			install(d, g);
			d->full = 1;
			d->aggregated = agg_apis;
			snprintf(d->etag, sizeof d->etag, "%s", agg_apis ? r[1].etag : "");
			free(d->groups);
			d->groups = agg_apis ? NULL : groups_text(r[1].response);
			d->checked = mono_seconds();
			log_debug("discovery: %zu resources (%s)", g->n, agg_apis ? "aggregated" : "per group");
		}
	}
	kube_req_clear(&r[0]);
	kube_req_clear(&r[1]);
	return rc;
}

/* One request that tells whether the cached answer still holds: /apis, conditional on its ETag when the
 * server speaks aggregated discovery (304: unchanged; 200: the new group data, used at once), else the plain
 * group list compared with the one the cache came from. Returns 0 when d->cur is current, 2 when it was
 * updated from this answer, 1 when a full discovery is needed, -1 on error. */
static int freshness_check(struct kube *k, struct kube_discovery *d, struct sm_error *err)
{
	struct kube_req r = {.method = KUBE_GET, .path = strdup("/apis"), .accept = ACCEPT_AGGREGATED,
			     .if_none_match = d->aggregated && d->etag[0] ? d->etag : NULL};
	kube_do(k, &r, 1);
	int rc = 1;
	if (r.status == 304 && d->aggregated) {
		rc = 0;
		if (d->stale) {
			/* unchanged, but some groups were stale: ask them again (they may answer now, or say why not) */
			struct gen *g = calloc(1, sizeof *g);
			gen_copy_except(g, d->cur, d->stale);
			if (fetch_per_group(k, NULL, d->stale, g, err)) {
				gen_free(g);
				rc = -1;
			} else {
				install(d, g);
			}
		}
	} else if (r.status == 200 && d->aggregated && is_aggregated(&r)) {
		/* the groups changed: their new answer came with this request; the core group is kept */
		struct gen *g = calloc(1, sizeof *g);
		json_t *stale = json_pack("{s:[]}", "groups");
		gen_copy(g, d->cur, 1);
		add_aggregated(g, r.response, stale);
		if (json_array_size(json_object_get(stale, "groups")) && fetch_per_group(k, NULL, stale, g, err)) {
			gen_free(g);
			json_decref(stale);
			kube_req_clear(&r);
			return -1;
		}
		install(d, g);
		json_decref(d->stale);
		d->stale = json_array_size(json_object_get(stale, "groups")) ? stale : (json_decref(stale), NULL);
		snprintf(d->etag, sizeof d->etag, "%s", r.etag);
		rc = 2;
	} else if (r.status == 200 && !d->aggregated && !is_aggregated(&r) && d->groups) {
		char *now = groups_text(r.response);
		rc = now && !strcmp(now, d->groups) ? 0 : 1;
		free(now);
	} else if (r.status == 0 || r.status == 401 || r.status == 403) {
		sm_error_set(err, NULL, 0, 0, "discovery: GET /apis: %s", r.err);
		rc = -1;
	}
	kube_req_clear(&r);
	if (rc == 0 || rc == 2)
		d->checked = mono_seconds();
	return rc;
}

int kube_discover(struct kube *k, struct sm_error *err)
{
	struct kube_discovery *d = state(k);
	if (!d) {
		sm_error_set(err, NULL, 0, 0, "out of memory");
		return -1;
	}
	if (d->cur && d->max_age > 0 && mono_seconds() - d->checked < d->max_age)
		return 0;
	if (!d->cur)
		cache_load(k, d);
	if (d->cur) {
		int fresh = freshness_check(k, d, err);
		if (fresh < 0)
			return -1;
		if (fresh == 2)
			cache_save(k, d);
		if (fresh != 1)
			return 0;
	}
	if (fetch_full(k, d, err))
		return -1;
	cache_save(k, d);
	return 0;
}

int kube_discover_refresh(struct kube *k, struct sm_error *err)
{
	struct kube_discovery *d = state(k);
	if (!d) {
		sm_error_set(err, NULL, 0, 0, "out of memory");
		return -1;
	}
	if (fetch_full(k, d, err))
		return -1;
	cache_save(k, d);
	return 0;
}

void kube_set_discovery_max_age(struct kube *k, double seconds)
{
	struct kube_discovery *d = state(k);
	if (d)
		d->max_age = seconds;
}

static const struct kube_resource *lookup(const struct gen *g, const char *api_version, const char *kind)
{
	for (size_t i = 0; g && i < g->n; i++)
		if (g->res[i].api_version && !strcmp(g->res[i].api_version, api_version) && !strcmp(g->res[i].kind, kind))
			return &g->res[i];
	return NULL;
}

const struct kube_resource *kube_find(struct kube *k, const char *api_version, const char *kind)
{
	struct kube_discovery *d = state(k);
	if (!d || !api_version || !kind)
		return NULL;
	const struct kube_resource *r = lookup(d->cur, api_version, kind);
	if (!r && d->cur && !d->full) {
		/* the answer came from a cache: a kind added since (a CRD installed by hand) is found by asking */
		struct sm_error err;
		log_debug("discovery: %s %s not in the cached answer: rediscovering", api_version, kind);
		if (kube_discover_refresh(k, &err))
			diag_warn(kube_diag(k), "%s", err.msg);
		else
			r = lookup(d->cur, api_version, kind);
	}
	return r;
}

size_t kube_resource_count(struct kube *k)
{
	struct kube_discovery *d = state(k);
	return d && d->cur ? d->cur->n : 0;
}

const struct kube_resource *kube_resource_at(struct kube *k, size_t i)
{
	struct kube_discovery *d = state(k);
	return d && d->cur && i < d->cur->n ? &d->cur->res[i] : NULL;
}
