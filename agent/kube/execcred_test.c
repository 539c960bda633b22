/* execcred_test.c — exec credential plugins: the kubeconfig exec entry, ExecCredential answers and RFC 3339 times, as tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "execcred.h"
#include "kubeconfig.h"

#define V1 "client.authentication.k8s.io/v1"
#define V1B "client.authentication.k8s.io/v1beta1"

static void test_exec_entry(void **state)
{
	(void)state;
	const char *text = "apiVersion: v1\nkind: Config\n"
			   "clusters:\n- name: k\n  cluster:\n    server: https://h:6443\n    proxy-url: socks5://p:1080\n"
			   "    tls-server-name: api.internal\n    disable-compression: true\n"
			   "    extensions:\n    - name: client.authentication.k8s.io/exec\n      extension: {audience: a1}\n"
			   "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
			   "users:\n- name: u\n  user:\n    exec:\n      apiVersion: " V1 "\n      command: bin/plugin\n"
			   "      args: [get-token, --x]\n      env: [{name: A, value: '1'}, {name: B, value: two}]\n"
			   "      interactiveMode: Never\n      provideClusterInfo: true\n      installHint: get it\n"
			   "current-context: c\n";
	struct kube_config cfg;
	struct sm_error se = {.msg = ""};
	assert_int_equal(0, kubeconfig_load_text(text, strlen(text), "/etc/kc/config", NULL, &cfg, &se));
	assert_non_null(cfg.exec);
	assert_string_equal(V1, cfg.exec->api_version);
	assert_string_equal("/etc/kc/bin/plugin", cfg.exec->command); /* relative to the kubeconfig */
	assert_int_equal(2, cfg.exec->nargs);
	assert_string_equal("--x", cfg.exec->args[1]);
	assert_int_equal(2, cfg.exec->nenv);
	assert_string_equal("B=two", cfg.exec->env[1]);
	assert_int_equal(KUBE_EXEC_NEVER, cfg.exec->interactive);
	assert_int_equal(1, cfg.exec->provide_cluster_info);
	assert_string_equal("get it", cfg.exec->install_hint);
	assert_string_equal("{\"audience\":\"a1\"}", cfg.exec->cluster_config);
	assert_string_equal("u", cfg.exec->user);
	assert_string_equal("socks5://p:1080", cfg.proxy_url);
	assert_string_equal("api.internal", cfg.tls_server_name);
	assert_int_equal(1, cfg.disable_compression);
	struct kube_exec *d = kube_exec_dup(cfg.exec);
	assert_string_equal("get-token", d->args[0]);
	kube_exec_free(d);
	kubeconfig_free(&cfg);
}

static const struct {
	const char *text, *api_version;
	const char *token, *cert;
	double expires;
	const char *err; /* NULL: parses */
} answers[] = {
	{"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t1\"}}", V1, "t1", NULL, 0, NULL},
	{"{\"apiVersion\":\"" V1B "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t2\","
	 "\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}",
	 V1B, "t2", NULL, 1893553445, NULL},
	{"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"C\","
	 "\"clientKeyData\":\"K\"}}",
	 V1, NULL, "C", 0, NULL},
	{"not json at all: secret-ish", V1, NULL, NULL, 0, "not an ExecCredential JSON object (27 bytes, not shown)"},
	{"{\"apiVersion\":\"" V1 "\",\"kind\":\"Pod\"}", V1, NULL, NULL, 0, "not an ExecCredential"},
	{"{\"apiVersion\":\"" V1B "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}", V1, NULL, NULL, 0,
	 "configured for apiVersion " V1 " but answered apiVersion \"" V1B "\""},
	{"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\"}", V1, NULL, NULL, 0, "has no status"},
	{"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{}}", V1, NULL, NULL, 0,
	 "neither status.token nor"},
	{"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"C\"}}", V1, NULL,
	 NULL, 0, "clientCertificateData without clientKeyData"},
	{"{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\","
	 "\"expirationTimestamp\":\"tomorrow\"}}",
	 V1, NULL, NULL, 0, "expirationTimestamp is not an RFC 3339 time"},
};

static void test_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		struct execcred c;
		struct sm_error se = {.msg = ""};
		const char *err = se.msg;
		char *text = strdup(answers[i].text);
		int rc = execcred_parse(text, strlen(text), answers[i].api_version, &c, &se);
		if (answers[i].err) {
			if (rc == 0 || !strstr(err, answers[i].err))
				fail_msg("case %zu: want \"%s\", got rc %d \"%s\"", i, answers[i].err, rc, err);
			assert_null(strstr(err, "secret-ish"));
		} else {
			if (rc)
				fail_msg("case %zu: %s", i, err);
			if (answers[i].token)
				assert_string_equal(answers[i].token, c.token);
			else
				assert_null(c.token);
			if (answers[i].cert) {
				assert_string_equal(answers[i].cert, c.cert);
				assert_string_equal("K", c.key);
			}
			assert_true(c.expires == answers[i].expires);
			execcred_clear(&c);
		}
		free(text);
	}
}

static void test_times(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		double want;
		int rc;
	} cases[] = {
		{"1970-01-01T00:00:00Z", 0, 0},
		{"2030-01-02T03:04:05Z", 1893553445, 0},
		{"2030-01-02T03:04:05.5Z", 1893553445.5, 0},
		{"2030-01-02T05:04:05+02:00", 1893553445, 0},
		{"2030-01-02T01:04:05-02:00", 1893553445, 0},
		{"2030-01-02 03:04:05Z", 1893553445, 0},
		{"2030-01-02T03:04:05", 0, -1},
		{"2030-13-02T03:04:05Z", 0, -1},
		{"2030-01-02T03:04:05Zjunk", 0, -1},
		{"", 0, -1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double t = -1;
		int rc = execcred_parse_time(cases[i].s, &t);
		if (rc != cases[i].rc || (rc == 0 && t != cases[i].want))
			fail_msg("case %zu (%s): rc %d t %f", i, cases[i].s, rc, t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_entry),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
