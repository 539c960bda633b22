/* ownership_test.c — the ownership module's pure parts (tables): inventory names, keys, remote URLs, recreate kinds, the inventory text, Secret masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ownership.h"
#include "redact.h"

static void test_inventory_name(void **state)
{
	(void)state;
	static const struct {
		const char *set, *want;
	} cases[] = {
		{"app", "appdeploy-set-app"},
		{"my-app.v2", "appdeploy-set-my-app.v2"},
		/* not a DNS name as given: cleaned, with the real name's digest so "My_App" and "my-app" differ */
		{"My_App", "appdeploy-set-my-app-"},
		{"my_app", "appdeploy-set-my-app-"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = own_inventory_name(cases[i].set);
		assert_non_null(got);
		assert_int_equal(strncmp(got, cases[i].want, strlen(cases[i].want)), 0);
		if (cases[i].want[strlen(cases[i].want) - 1] == '-')
			assert_int_equal(strlen(got), strlen(cases[i].want) + 8);
		free(got);
	}
	char *a = own_inventory_name("My_App"), *b = own_inventory_name("my_app");
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_key(void **state)
{
	(void)state;
	char *k = own_key("apps/v1", "Deployment", "demo", "web");
	assert_string_equal(k, "apps/Deployment/demo/web");
	free(k);
	k = own_key("v1", "Namespace", "", "demo");
	assert_string_equal(k, "/Namespace//demo");
	free(k);
	k = own_key("rbac.authorization.k8s.io/v1", "ClusterRole", NULL, "r");
	assert_string_equal(k, "rbac.authorization.k8s.io/ClusterRole//r");
	free(k);
}

static void test_git_remote_url(void **state)
{
	(void)state;
	static const struct {
		const char *config, *want;
	} cases[] = {
		{"[remote \"origin\"]\n\turl = https://git.example/org/repo.git\n", "https://git.example/org/repo"},
		{"[remote \"origin\"]\n\turl = https://bob:s3cret@git.example/org/repo\n", "https://git.example/org/repo"},
		{"[remote \"origin\"]\nurl=https://u:p@ss@host/x/\n", "https://host/x"},
		{"[remote \"origin\"]\n\turl = git@github.com:org/repo.git\n", "git@github.com:org/repo"},
		{"[remote \"upstream\"]\n\turl = https://a/b\n[remote \"origin\"]\n\turl = https://c/d\n", "https://c/d"},
		{"[remote \"upstream\"]\n\turl = https://a/b\n", NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = own_git_remote_url(cases[i].config);
		if (cases[i].want) {
			assert_non_null(got);
			assert_string_equal(got, cases[i].want);
		} else
			assert_null(got);
		free(got);
	}
}

static void test_recreate_allowed(void **state)
{
	(void)state;
	static const struct {
		const char *obj, *group, *kind;
		int want;
	} cases[] = {
		{"{}", "apps", "Deployment", 1},
		{"{}", "apps", "StatefulSet", 1},
		{"{}", "batch", "CronJob", 1},
		{"{}", "", "Service", 1},
		{"{}", "", "PersistentVolumeClaim", 0},
		{"{}", "", "PersistentVolume", 0},
		{"{}", "", "Namespace", 0},
		{"{}", "apiextensions.k8s.io", "CustomResourceDefinition", 0},
		{"{}", "", "ConfigMap", 0},
		{"{\"immutable\": true}", "", "ConfigMap", 1},
		{"{\"immutable\": true}", "", "Secret", 1},
		{"{\"metadata\": {\"annotations\": {\"appdeploy.sourcemode.dev/recreate\": \"true\"}}}", "", "PersistentVolumeClaim", 1},
		{"{\"metadata\": {\"annotations\": {\"appdeploy.sourcemode.dev/recreate\": \"false\"}}}", "", "PersistentVolumeClaim", 0},
		{"{}", "example.com", "Deployment", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *o = json_loads(cases[i].obj, 0, NULL);
		assert_non_null(o);
		assert_int_equal(own_recreate_allowed(o, NULL, cases[i].group, cases[i].kind), cases[i].want);
		json_decref(o);
	}
	/* a ConfigMap made immutable in the cluster may be replaced by a mutable one */
	json_t *r = json_object(), *l = json_pack("{s:b}", "immutable", 1);
	assert_int_equal(own_recreate_allowed(r, l, "", "ConfigMap"), 1);
	json_decref(r);
	json_decref(l);
}

static void test_entries_text(void **state)
{
	(void)state;
	struct own_entry *v = NULL;
	size_t n = 0;
	own_entries_add(&v, &n, "v1", "ConfigMap", "demo", "b", "");
	own_entries_add(&v, &n, "apps/v1", "Deployment", "demo", "web", "u-1");
	own_entries_add(&v, &n, "v1", "ConfigMap", "demo", "b", "u-2"); /* same key: the uid is filled in */
	own_entries_add(&v, &n, "rbac.authorization.k8s.io/v1", "ClusterRole", "", "r", "");
	assert_int_equal(n, 3);
	char *text = own_entries_text(v, n);
	assert_string_equal(text, "v1 ConfigMap demo b u-2\n"
				  "apps/v1 Deployment demo web u-1\n"
				  "rbac.authorization.k8s.io/v1 ClusterRole - r -\n");
	struct own_entry *w = NULL;
	size_t m = 0;
	own_entries_parse(text, &w, &m);
	own_entries_parse("garbage line\n\n", &w, &m);
	/* a '/' where no object has one would make a key that reads as another entry's (fuzz_inventory) */
	own_entries_parse("a/b/v1 Kind demo x -\nv1 a/b demo x -\nv1 Kind a/b x -\nv1 Kind demo a/b -\n", &w, &m);
	assert_int_equal(m, 3);
	const struct own_entry *e = own_entries_find(w, m, "rbac.authorization.k8s.io/ClusterRole//r");
	assert_non_null(e);
	assert_string_equal(e->ns, "");
	assert_string_equal(e->uid, "");
	free(text);
	own_entries_free(v, n);
	own_entries_free(w, m);
}

static void test_redact(void **state)
{
	(void)state;
	json_t *a = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{\"same\":\"eA==\",\"changed\":\"YQ==\","
			       "\"gone\":\"Zw==\"}}", 0, NULL);
	json_t *b = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{\"same\":\"eA==\",\"changed\":\"Yg==\","
			       "\"new\":\"bg==\"}}", 0, NULL);
	redact_pair(a, b);
	char *ta = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT), *tb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(ta, "{\"apiVersion\":\"v1\",\"data\":{\"changed\":\"*** (before)\",\"gone\":\"***\",\"same\":\"***\"},"
				"\"kind\":\"Secret\"}");
	assert_string_equal(tb, "{\"apiVersion\":\"v1\",\"data\":{\"changed\":\"*** (after)\",\"new\":\"***\",\"same\":\"***\"},"
				"\"kind\":\"Secret\"}");
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
	/* a ConfigMap is shown as it is */
	json_t *c = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{\"k\":\"v\"}}", 0, NULL);
	redact_pair(c, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "data"), "k")), "v");
	json_decref(c);
	/* messages: values as sent, decoded, and base64-encoded stringData */
	json_t *s = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{\"p\":\"aHVudGVyMg==\"},"
			       "\"stringData\":{\"t\":\"tok\"}}", 0, NULL);
	char buf[256];
	assert_string_equal(redact_text(s, "bad aHVudGVyMg== hunter2 tok dG9r end", buf, sizeof buf),
			    "bad *** *** *** *** end");
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inventory_name), cmocka_unit_test(test_key),
		cmocka_unit_test(test_git_remote_url), cmocka_unit_test(test_recreate_allowed),
		cmocka_unit_test(test_entries_text),   cmocka_unit_test(test_redact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
