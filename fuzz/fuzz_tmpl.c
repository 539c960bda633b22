/* fuzz_tmpl.c — libFuzzer target: lexes, parses and executes arbitrary template text (with sprig/Helm functions) on small data. */
/* Build and run: scripts/fuzz.sh fuzz_tmpl (it compiles every module with the sanitizers; seeds in fuzz/corpus/fuzz_tmpl). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "tmpl.h"

static json_t *fuzz_data(void)
{
	json_error_t e;
	return json_loads("{\"Variables\": {\"name\": \"web\", \"n\": 3, \"f\": 1.5, \"t\": true, \"nul\": null,"
			  " \"list\": [1, \"two\", [3], {\"k\": \"v\"}], \"m\": {\"a\": 1, \"b\": {\"c\": \"d\"}},"
			  " \"empty\": \"\"}, \"Namespace\": \"ns\", \"ImagePullSecrets\": [], \"Images\": {},"
			  " \"Source\": {}}",
			  0, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	/* a leading byte picks options, the rest is split into a helper file and the main template at the
	 * first NUL so that define/template/include across files get exercised */
	int missing = size && (data[0] & 1);
	const char *text = (const char *)data + (size ? 1 : 0);
	size_t len = size ? size - 1 : 0;
	const char *nul = memchr(text, 0, len);
	struct tmpl_set *set = tmpl_set_new();
	helm_install_funcs(set);
	tmpl_set_missingkey_error(set, missing);
	tmpl_set_limits(set, 1u << 20, 200000); /* loops like {{range 100000000}} must not stall the fuzzer */
	struct sm_error err;
	json_t *dot = fuzz_data();
	if (nul) {
		size_t hl = (size_t)(nul - text);
		tmpl_parse(set, "_helpers.tpl", text, hl, &err);
		text = nul + 1;
		len -= hl + 1;
	}
	if (tmpl_parse(set, "main.yaml", text, len, &err) == 0) {
		char *out = NULL;
		size_t outlen = 0;
		if (tmpl_execute(set, "main.yaml", dot, &out, &outlen, &err) == 0)
			free(out);
	}
	json_decref(dot);
	tmpl_set_free(set);
	return 0;
}
