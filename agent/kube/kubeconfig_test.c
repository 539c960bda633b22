/* kubeconfig_test.c — kubeconfig parsing: a table of documents and what they resolve to, or the error they give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kubeconfig.h"
#include "kube.h"

#define HEAD "apiVersion: v1\nkind: Config\n"
#define CLUSTER "clusters:\n- name: k\n  cluster:\n    server: https://10.0.0.1:6443/\n"
#define CONTEXT "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n    namespace: ns1\n"

struct ok_case {
	const char *name;
	const char *text;
	const char *context;
	const char *server, *ns, *token, *token_file, *ca_file, *ca_data, *cert_file, *key_data;
	int insecure;
};

static const struct ok_case ok_cases[] = {
	{"token", HEAD CLUSTER CONTEXT "users:\n- name: u\n  user:\n    token: abc\ncurrent-context: c\n", NULL,
	 "https://10.0.0.1:6443", "ns1", "abc", NULL, NULL, NULL, NULL, NULL, 0},
	{"token file relative", HEAD CLUSTER CONTEXT "users:\n- name: u\n  user:\n    tokenFile: tok\ncurrent-context: c\n",
	 NULL, "https://10.0.0.1:6443", "ns1", NULL, "/etc/kc/tok", NULL, NULL, NULL, NULL, 0},
	{"inline data",
	 HEAD "clusters:\n- name: k\n  cluster:\n    server: https://h\n    certificate-authority-data: Q0EgUEVN\n"
	      "    insecure-skip-tls-verify: true\n" CONTEXT
	      "users:\n- name: u\n  user:\n    client-certificate: /c.crt\n    client-key-data: S0VZ\n"
	      "current-context: c\n",
	 NULL, "https://h", "ns1", NULL, NULL, NULL, "CA PEM", "/c.crt", "KEY", 1},
	{"explicit context wins over current",
	 HEAD CLUSTER "contexts:\n- name: c\n  context: {cluster: k, user: u}\n- name: d\n  context: {cluster: k}\n"
		      "users:\n- name: u\n  user: {token: t}\ncurrent-context: c\n",
	 "d", "https://10.0.0.1:6443", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
	{"ca file absolute", HEAD "clusters:\n- name: k\n  cluster: {server: 'http://x:8080', certificate-authority: /ca.pem}\n"
			     "contexts:\n- name: c\n  context: {cluster: k}\ncurrent-context: c\n",
	 NULL, "http://x:8080", NULL, NULL, NULL, "/ca.pem", NULL, NULL, NULL, 0},
};

static void check_str(const char *what, const char *want, const char *got)
{
	if (!want) {
		if (got)
			fail_msg("%s: want unset, got \"%s\"", what, got);
		return;
	}
	if (!got)
		fail_msg("%s: want \"%s\", got unset", what, want);
	assert_string_equal(want, got);
}

static void test_ok_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		const struct ok_case *c = &ok_cases[i];
		struct kube_config cfg;
		struct sm_error se = {.msg = ""};
		const char *err = se.msg;
		if (kubeconfig_load_text(c->text, strlen(c->text), "/etc/kc/config", c->context, &cfg, &se))
			fail_msg("%s: %s", c->name, err);
		check_str("server", c->server, cfg.server);
		check_str("namespace", c->ns, cfg.namespace);
		check_str("token", c->token, cfg.token);
		check_str("token_file", c->token_file, cfg.token_file);
		check_str("ca_file", c->ca_file, cfg.ca_file);
		check_str("ca_data", c->ca_data, cfg.ca_data);
		check_str("cert_file", c->cert_file, cfg.cert_file);
		check_str("key_data", c->key_data, cfg.key_data);
		assert_int_equal(c->insecure, cfg.insecure);
		kubeconfig_free(&cfg);
	}
}

struct bad_case {
	const char *text;
	const char *context;
	const char *want; /* substring of the error */
};

static const struct bad_case bad_cases[] = {
	{"", NULL, "no context given and no current-context set"},
	{HEAD CLUSTER CONTEXT, "x", "context \"x\" not found"},
	{HEAD CONTEXT "current-context: c\n", NULL, "names cluster \"k\", which is not defined"},
	{HEAD CLUSTER CONTEXT "current-context: c\n", NULL, "names user \"u\", which is not defined"},
	{HEAD "clusters: {}\n", NULL, "cfg:3:11: clusters must be a list"},
	{HEAD "clusters:\n- cluster: {server: x}\n", NULL, "cfg:4:3: each entry of clusters needs a name"},
	{HEAD "clusters:\n- name: k\n  cluster: {server: 'ftp://x'}\ncontexts:\n- name: c\n  context: {cluster: k}\n"
	      "current-context: c\n",
	 NULL, "cfg:5:21: server must be an http:// or https:// URL"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {token: [1]}\ncurrent-context: c\n", NULL,
	 "token must be a string"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {client-key-data: '!!!'}\ncurrent-context: c\n", NULL,
	 "client-key-data is not valid base64"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {client-certificate: /a}\ncurrent-context: c\n", NULL,
	 "a client certificate needs a client key"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {exec: {command: aws}}\ncurrent-context: c\n", NULL,
	 "cfg:15:16: exec apiVersion must be client.authentication.k8s.io/v1 or"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1, "
			      "command: aws}}\ncurrent-context: c\n",
	 NULL, "exec interactiveMode must be set for client.authentication.k8s.io/v1"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, "
			      "command: aws, interactiveMode: Sometimes}}\ncurrent-context: c\n",
	 NULL, "exec interactiveMode must be Never, IfAvailable or Always"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, "
			      "command: aws, env: [{name: A}]}}\ncurrent-context: c\n",
	 NULL, "each exec env entry needs a name and a string value"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, "
			      "command: aws, args: [1, {}]}}\ncurrent-context: c\n",
	 NULL, "exec args must be a list of strings"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {auth-provider: {name: gcp}}\ncurrent-context: c\n", NULL,
	 "user \"u\": the auth-provider \"gcp\" is not supported (kubectl removed auth providers); install gke-gcloud-auth-plugin"},
	{HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {auth-provider: {name: oidc}}\ncurrent-context: c\n", NULL,
	 "kubelogin"},
	{HEAD "clusters:\n- name: k\n  cluster: {server: 'https://x', proxy-url: 'ftp://p'}\n" CONTEXT
	      "users:\n- name: u\n  user: {}\ncurrent-context: c\n",
	 NULL, "proxy-url must be an http://, https:// or socks5:// URL"},
	{"a: [\n", NULL, "cfg:"},
	{"- 1\n", NULL, "a kubeconfig must be a mapping"},
};

static void test_bad_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *c = &bad_cases[i];
		struct kube_config cfg;
		struct sm_error se = {.msg = ""};
		const char *err = se.msg;
		if (!kubeconfig_load_text(c->text, strlen(c->text), "cfg", c->context, &cfg, &se)) {
			kubeconfig_free(&cfg);
			fail_msg("case %zu: want error \"%s\", got success", i, c->want);
		}
		if (!strstr(err, c->want))
			fail_msg("case %zu: want \"%s\" in \"%s\"", i, c->want, err);
	}
}

static void test_secret_not_in_errors(void **state)
{
	(void)state;
	const char *text = HEAD CLUSTER CONTEXT "users:\n- name: u\n  user: {token: supersecret, client-key-data: 'x!'}\n"
					   "current-context: c\n";
	struct kube_config cfg;
	struct sm_error se = {.msg = ""};
	const char *err = se.msg;
	assert_int_equal(-1, kubeconfig_load_text(text, strlen(text), "cfg", NULL, &cfg, &se));
	assert_null(strstr(err, "supersecret"));
	assert_null(strstr(err, "x!"));
}

static void test_token_file_reread(void **state)
{
	(void)state;
	char path[] = "/tmp/kc-token-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(4, write(fd, "one\n", 4));
	close(fd);
	struct kube_config cfg = {.token_file = path};
	char *tok;
	struct sm_error se = {.msg = ""};
	const char *err = se.msg;
	assert_int_equal(0, kubeconfig_token(&cfg, &tok, &se));
	assert_string_equal("one", tok);
	free(tok);
	FILE *f = fopen(path, "w");
	fputs("two", f);
	fclose(f);
	assert_int_equal(0, kubeconfig_token(&cfg, &tok, &se));
	assert_string_equal("two", tok);
	free(tok);
	unlink(path);
	assert_int_equal(-1, kubeconfig_token(&cfg, &tok, &se));
	assert_non_null(strstr(err, path));
}

static void test_kube_path_escapes(void **state)
{
	(void)state;
	struct kube_resource core = {.group = "", .version = "v1", .plural = "configmaps", .namespaced = 1};
	struct kube_resource apps = {.group = "apps", .version = "v1", .plural = "deployments", .namespaced = 1};
	struct kube_resource ns = {.group = "", .version = "v1", .plural = "namespaces", .namespaced = 0};
	char *p = kube_path(&core, "demo", "a b", "limit=1");
	assert_string_equal("/api/v1/namespaces/demo/configmaps/a%20b?limit=1", p);
	free(p);
	p = kube_path(&apps, "demo", NULL, NULL);
	assert_string_equal("/apis/apps/v1/namespaces/demo/deployments", p);
	free(p);
	p = kube_path(&ns, "ignored", "demo", NULL);
	assert_string_equal("/api/v1/namespaces/demo", p);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_table),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_secret_not_in_errors),
		cmocka_unit_test(test_token_file_reread),
		cmocka_unit_test(test_kube_path_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
