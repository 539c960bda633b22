/* agentrbac_test.c — the agent's rules for a set: the example set's Role lists exactly its kinds; cluster kinds, CRDs, unknown kinds, as tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agentrbac.h"
#include "pipeline.h"
#include "yamlval.h"

/* A server's discovery as a table: what fakekube and a real cluster answer for these kinds. */
static const struct {
	const char *api_version, *kind, *group, *plural;
	int namespaced;
} served[] = {
	{"v1", "ConfigMap", "", "configmaps", 1},
	{"v1", "Service", "", "services", 1},
	{"v1", "Secret", "", "secrets", 1},
	{"v1", "Namespace", "", "namespaces", 0},
	{"apps/v1", "Deployment", "apps", "deployments", 1},
	{"batch/v1", "CronJob", "batch", "cronjobs", 1},
	{"rbac.authorization.k8s.io/v1", "ClusterRole", "rbac.authorization.k8s.io", "clusterroles", 0},
	{"apiextensions.k8s.io/v1", "CustomResourceDefinition", "apiextensions.k8s.io", "customresourcedefinitions", 0},
};

static int resolve(void *arg, const char *av, const char *kind, const char **group, const char **plural,
		   int *namespaced)
{
	(void)arg;
	for (size_t i = 0; i < sizeof served / sizeof served[0]; i++)
		if (!strcmp(served[i].api_version, av) && !strcmp(served[i].kind, kind)) {
			*group = served[i].group;
			*plural = served[i].plural;
			*namespaced = served[i].namespaced;
			return 0;
		}
	return -1;
}

#define ALL "[\"get\", \"list\", \"watch\", \"create\", \"update\", \"patch\", \"delete\"]"
#define READ "[\"get\", \"list\", \"watch\"]"
/* what the agent needs in every target namespace besides the set's kinds */
#define OWN_CORE                                                                                                       \
	"{\"apiGroups\": [\"\"], \"resources\": [\"events\"], \"verbs\": [\"list\", \"watch\"]}, "                     \
	"{\"apiGroups\": [\"\"], \"resources\": [\"pods\"], \"verbs\": " READ "}, "                                    \
	"{\"apiGroups\": [\"\"], \"resources\": [\"pods/log\"], \"verbs\": [\"get\"]}, "                               \
	"{\"apiGroups\": [\"\"], \"resources\": [\"pods/proxy\"], \"verbs\": [\"get\", \"create\"]}"

static char *dump(json_t *j)
{
	char *s = json_dumps(j, 0);
	json_decref(j);
	return s;
}

/* The example set (examples/hello-deploy: Deployments hello and redis, Services hello and redis; hello offers
 * synced source mode): its Role lists exactly those kinds, plus the agent's own needs; no ClusterRole. */
static void test_example_set(void **state)
{
	(void)state;
	struct pipeline_opts o = {.dir = "examples/hello-deploy", .images = "examples/images.yaml"};
	json_t *objs;
	char *ns;
	assert_int_equal(pipeline_render_local(&o, NULL, NULL, &objs, &ns), 0);
	json_t *rules, *cluster;
	struct sm_error err;
	assert_int_equal(agentrbac_rules(objs, resolve, NULL, &rules, &cluster, &err), 0);
	char *r = dump(rules), *c = dump(cluster);
	assert_string_equal(
		r,
		"[{\"apiGroups\": [\"\"], \"resources\": [\"configmaps\", \"secrets\", \"services\"], \"verbs\": " ALL
		"}, " OWN_CORE ", "
		"{\"apiGroups\": [\"apps\"], \"resources\": [\"deployments\"], \"verbs\": " ALL "}, "
		"{\"apiGroups\": [\"apps\"], \"resources\": [\"replicasets\"], \"verbs\": " READ "}]");
	assert_string_equal(c, "[]");
	free(r);
	free(c);
	free(ns);
	json_decref(objs);
}

static json_t *objects(const char *yaml)
{
	struct sm_error err = {0};
	json_t *docs = yv_load(yaml, strlen(yaml), "test.yaml", 1, NULL, &err);
	if (!docs)
		fail_msg("%s", err.msg);
	json_t *out = json_array();
	size_t i;
	json_t *d;
	json_array_foreach(docs, i, d) json_array_append_new(
		out, json_pack("{s:s,s:i,s:O}", "file", "test.yaml", "line", (int)i + 1, "object", d));
	json_decref(docs);
	return out;
}

static void test_table(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *rules, *cluster, *error;
	} cases[] = {
		/* a set of one CronJob and no Deployment offering sync: no secrets */
		{"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\n",
		 "[{\"apiGroups\": [\"\"], \"resources\": [\"configmaps\"], \"verbs\": " ALL "}, " OWN_CORE ", "
		 "{\"apiGroups\": [\"apps\"], \"resources\": [\"deployments\", \"replicasets\"], \"verbs\": " READ "}, "
		 "{\"apiGroups\": [\"batch\"], \"resources\": [\"cronjobs\"], \"verbs\": " ALL "}]",
		 "[]", NULL},
		/* cluster-scoped kinds go to the ClusterRole; a kind twice is listed once */
		{"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n"
		 "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n",
		 "[{\"apiGroups\": [\"\"], \"resources\": [\"configmaps\"], \"verbs\": " ALL "}, " OWN_CORE ", "
		 "{\"apiGroups\": [\"apps\"], \"resources\": [\"deployments\", \"replicasets\"], \"verbs\": " READ "}]",
		 "[{\"apiGroups\": [\"\"], \"resources\": [\"namespaces\"], \"verbs\": " ALL "}, "
		 "{\"apiGroups\": [\"rbac.authorization.k8s.io\"], \"resources\": [\"clusterroles\"], \"verbs\": " ALL
		 "}]",
		 NULL},
		/* a custom resource whose CRD comes in the same render: plural and scope from the CRD */
		{"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n"
		 "spec: {group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets}}\n---\n"
		 "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
		 "[{\"apiGroups\": [\"\"], \"resources\": [\"configmaps\"], \"verbs\": " ALL "}, " OWN_CORE ", "
		 "{\"apiGroups\": [\"apps\"], \"resources\": [\"deployments\", \"replicasets\"], \"verbs\": " READ "}, "
		 "{\"apiGroups\": [\"example.com\"], \"resources\": [\"widgets\"], \"verbs\": " ALL "}]",
		 "[{\"apiGroups\": [\"apiextensions.k8s.io\"], \"resources\": [\"customresourcedefinitions\"], \"verbs\": " ALL
		 "}]",
		 NULL},
		/* a Deployment listing the set's own Deployment kind widens the dashboard's read-only rule */
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
		 "[{\"apiGroups\": [\"\"], \"resources\": [\"configmaps\"], \"verbs\": " ALL "}, " OWN_CORE ", "
		 "{\"apiGroups\": [\"apps\"], \"resources\": [\"deployments\"], \"verbs\": " ALL "}, "
		 "{\"apiGroups\": [\"apps\"], \"resources\": [\"replicasets\"], \"verbs\": " READ "}]",
		 "[]", NULL},
		/* a kind nobody serves or defines */
		{"apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n", NULL, NULL,
		 "test.yaml:1: the server has no kind Gadget in apiVersion example.com/v1, so the agent's rights for it cannot "
		 "be known; install its CustomResourceDefinition first"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *objs = objects(cases[i].yaml), *rules, *cluster;
		struct sm_error err = {0};
		int rc = agentrbac_rules(objs, resolve, NULL, &rules, &cluster, &err);
		json_decref(objs);
		if (cases[i].error) {
			assert_int_equal(rc, -1);
			assert_string_equal(err.msg, cases[i].error);
			continue;
		}
		assert_int_equal(rc, 0);
		char *r = dump(rules), *c = dump(cluster);
		if (strcmp(r, cases[i].rules) || strcmp(c, cases[i].cluster))
			fail_msg("case %zu:\n got rules %s\nwant rules %s\n got cluster %s\nwant cluster %s", i, r,
				 cases[i].rules, c, cases[i].cluster);
		free(r);
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_set),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
