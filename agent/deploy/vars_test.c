/* vars_test.c — the template data builder (vars.c): variables files merged in order, -v values typed, -n. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vars.h"

static void test_vars(void **state)
{
	(void)state;
	char dir[] = "/tmp/varsXXXXXX";
	assert_non_null(mkdtemp(dir));
	char p1[256], p2[256];
	snprintf(p1, sizeof p1, "%s/variables.yaml", dir);
	snprintf(p2, sizeof p2, "%s/more.yaml", dir);
	FILE *f = fopen(p1, "w");
	fputs("namespace: team\nimage: {repo: r, tag: v1}\nreplicas: 2\n", f);
	fclose(f);
	f = fopen(p2, "w");
	fputs("image: {tag: v2}\nextra: yes\n", f);
	fclose(f);
	const char *files[] = {p2};
	const char *sets[] = {"replicas=5", "image.pull=Always", "debug:true", "big=1234567", "name=a=b"};
	const char *secrets[] = {"regcred"};
	struct vars_opts o = {.dir = dir, .files = files, .nfiles = 1, .sets = sets, .nsets = 5,
			      .pull_secrets = secrets, .npull_secrets = 1};
	struct sm_error se = {.msg = ""};
	const char *err = se.msg;
	json_t *d = vars_build(&o, &se);
	assert_non_null(d);
	char *s = json_dumps(d, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s, "{\"ImagePullSecrets\":[{\"name\":\"regcred\"}],\"Images\":{},\"Namespace\":\"team\",\"Source\":{},\"SourceMode\":{},"
			       "\"Variables\":{\"big\":1234567,\"debug\":true,\"extra\":true,\"image\":{\"pull\":\"Always\","
			       "\"repo\":\"r\",\"tag\":\"v2\"},\"name\":\"a=b\",\"namespace\":\"team\",\"replicas\":5}}");
	free(s);
	json_decref(d);
	o.namespace_ = "prod";
	d = vars_build(&o, &se);
	assert_string_equal(json_string_value(json_object_get(d, "Namespace")), "prod");
	json_decref(d);
	const char *bad[] = {"novalue"};
	o.sets = bad;
	o.nsets = 1;
	assert_null(vars_build(&o, &se));
	assert_non_null(strstr(err, "novalue"));
	const char *missing[] = {"/nonexistent/vars.yaml"};
	o.nsets = 0;
	o.files = missing;
	assert_null(vars_build(&o, &se));
	unlink(p1);
	unlink(p2);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vars),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
