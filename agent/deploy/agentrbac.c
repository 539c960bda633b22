/* agentrbac.c — the agent's RBAC rules for a rendered set (agentrbac.h): the set's kinds through discovery, plus the agent's own needs. */
#include "agentrbac.h"

#include <stdlib.h>
#include <string.h>

#include "sourcemode.h"

enum { V_GET = 1, V_LIST = 2, V_WATCH = 4, V_CREATE = 8, V_UPDATE = 16, V_PATCH = 32, V_DELETE = 64 };
#define V_ALL (V_GET | V_LIST | V_WATCH | V_CREATE | V_UPDATE | V_PATCH | V_DELETE)
#define V_READ (V_GET | V_LIST | V_WATCH)
static const char *const verb_names[] = {"get", "list", "watch", "create", "update", "patch", "delete"};

struct grant {
	char *group, *resource;
	int cluster;
	unsigned verbs;
};

struct grants {
	struct grant *v;
	size_t n, cap;
};

static void add(struct grants *g, const char *group, const char *resource, int cluster, unsigned verbs)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].cluster == cluster && !strcmp(g->v[i].group, group) &&
		    !strcmp(g->v[i].resource, resource)) {
			g->v[i].verbs |= verbs;
			return;
		}
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->v = realloc(g->v, g->cap * sizeof *g->v);
		if (!g->v)
			abort();
	}
	g->v[g->n++] = (struct grant){strdup(group), strdup(resource), cluster, verbs};
}

static int grant_cmp(const void *a, const void *b)
{
	const struct grant *x = a, *y = b;
	int c = strcmp(x->group, y->group);
	if (c)
		return c;
	if (x->verbs != y->verbs)
		return x->verbs < y->verbs ? 1 : -1; /* the wider rule of a group first */
	return strcmp(x->resource, y->resource);
}

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* The group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""), into buf. */
static const char *group_of(const char *api_version, char *buf, size_t cap)
{
	const char *slash = strchr(api_version, '/');
	size_t n = slash ? (size_t)(slash - api_version) : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, api_version, n);
	buf[n] = 0;
	return buf;
}

/* A kind defined by a CustomResourceDefinition of objs: its plural and scope. */
static int from_crd(json_t *objs, const char *group, const char *kind, const char **plural, int *namespaced)
{
	size_t i;
	json_t *e;
	json_array_foreach(objs, i, e)
	{
		json_t *o = json_object_get(e, "object");
		const char *k = str(o, "kind");
		if (!k || strcmp(k, "CustomResourceDefinition"))
			continue;
		json_t *spec = json_object_get(o, "spec"), *names = json_object_get(spec, "names");
		const char *g = str(spec, "group"), *nk = str(names, "kind"), *p = str(names, "plural");
		if (g && nk && p && !strcmp(g, group) && !strcmp(nk, kind)) {
			*plural = p;
			const char *scope = str(spec, "scope");
			*namespaced = !scope || strcmp(scope, "Cluster");
			return 0;
		}
	}
	return -1;
}

/* True when a Deployment of objs offers synced source mode (apply then renders the sync-token Secret). */
static int offers_sync(json_t *o)
{
	const char *kind = str(o, "kind");
	json_t *ann = json_object_get(json_object_get(o, "metadata"), "annotations");
	const char *runner = str(ann, SOURCEMODE_ANNOTATION_RUNNER);
	return kind && !strcmp(kind, "Deployment") && runner &&
	       (sourcemode_allowed(runner, str(ann, SOURCEMODE_ANNOTATION_MODES)) & (1u << SOURCEMODE_SYNC));
}

static json_t *rules_of(struct grants *g, int cluster)
{
	json_t *rules = json_array();
	json_t *cur = NULL;
	const struct grant *prev = NULL;
	for (size_t i = 0; i < g->n; i++) {
		const struct grant *x = &g->v[i];
		if (x->cluster != cluster)
			continue;
		if (!prev || strcmp(prev->group, x->group) || prev->verbs != x->verbs) {
			json_t *verbs = json_array();
			for (size_t b = 0; b < sizeof verb_names / sizeof verb_names[0]; b++)
				if (x->verbs & (1u << b))
					json_array_append_new(verbs, json_string(verb_names[b]));
			cur = json_pack("{s:[s],s:[],s:o}", "apiGroups", x->group, "resources", "verbs", verbs);
			json_array_append_new(rules, cur);
		}
		json_array_append_new(json_object_get(cur, "resources"), json_string(x->resource));
		prev = x;
	}
	/* rules by group, then by their first resource */
	size_t n = json_array_size(rules);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			json_t *a = json_array_get(rules, j - 1), *b = json_array_get(rules, j);
			const char *ga = json_string_value(json_array_get(json_object_get(a, "apiGroups"), 0));
			const char *gb = json_string_value(json_array_get(json_object_get(b, "apiGroups"), 0));
			const char *ra = json_string_value(json_array_get(json_object_get(a, "resources"), 0));
			const char *rb = json_string_value(json_array_get(json_object_get(b, "resources"), 0));
			int c = strcmp(ga, gb);
			if (c < 0 || (!c && strcmp(ra, rb) <= 0))
				break;
			json_incref(a);
			json_array_set(rules, j - 1, b);
			json_array_set_new(rules, j, a);
		}
	return rules;
}

int agentrbac_kube_resolve(void *arg, const char *api_version, const char *kind, const char **group,
			   const char **plural, int *namespaced)
{
	const struct kube_resource *r = kube_find(arg, api_version, kind);
	if (!r)
		return -1;
	*group = r->group;
	*plural = r->plural;
	*namespaced = r->namespaced;
	return 0;
}

int agentrbac_rules(json_t *objs, agentrbac_resolve_fn resolve, void *arg, json_t **rules, json_t **cluster_rules,
		    struct sm_error *err)
{
	struct grants g = {0};
	size_t i;
	json_t *e;
	int rc = 0, sync = 0;
	*rules = *cluster_rules = NULL;
	json_array_foreach(objs, i, e)
	{
		json_t *o = json_object_get(e, "object");
		const char *av = str(o, "apiVersion"), *kind = str(o, "kind");
		if (!av || !kind)
			continue;
		char gbuf[256];
		const char *group = NULL, *plural = NULL;
		int namespaced = 1;
		if (resolve(arg, av, kind, &group, &plural, &namespaced)) {
			group = group_of(av, gbuf, sizeof gbuf);
			if (from_crd(objs, group, kind, &plural, &namespaced)) {
				sm_error_set(
					err, NULL, 0, 0,
					"%s:%d: the server has no kind %s in apiVersion %s, so the agent's rights for it "
					"cannot be known; install its CustomResourceDefinition first",
					str(e, "file") ? str(e, "file") : "?",
					(int)json_integer_value(json_object_get(e, "line")), kind, av);
				rc = -1;
				break;
			}
		}
		add(&g, group, plural, !namespaced, V_ALL);
		sync |= offers_sync(o);
	}
	if (!rc) {
		add(&g, "", "configmaps", 0, V_ALL);
		add(&g, "", "pods", 0, V_READ);
		add(&g, "", "pods/log", 0, V_GET);
		add(&g, "", "pods/proxy", 0, V_GET | V_CREATE);
		add(&g, "", "events", 0, V_LIST | V_WATCH);
		add(&g, "apps", "deployments", 0, V_READ);
		add(&g, "apps", "replicasets", 0, V_READ);
		if (sync)
			add(&g, "", "secrets", 0, V_ALL);
		qsort(g.v, g.n, sizeof *g.v, grant_cmp);
		*rules = rules_of(&g, 0);
		*cluster_rules = rules_of(&g, 1);
	}
	for (size_t j = 0; j < g.n; j++) {
		free(g.v[j].group);
		free(g.v[j].resource);
	}
	free(g.v);
	return rc;
}
