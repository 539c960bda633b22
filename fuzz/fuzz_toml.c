/* fuzz_toml.c — libFuzzer target for the TOML parser and encoder (agent/chart/toml*.c): never a crash or leak, and what parses encodes to TOML that parses back to the same value. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_error e;
	json_t *v = toml_parse((const char *)data, size, &e);
	if (!v) {
		char buf[1024];
		toml_error_str(&e, buf, sizeof buf);
		if (e.line < 1 || e.col < 1 || !e.msg[0])
			abort(); /* every error points somewhere and says something */
		return 0;
	}
	struct sm_error err;
	char *t = toml_encode(v, &err);
	if (!t)
		abort(); /* a parsed document never holds a nil: it always encodes */
	json_t *back = toml_parse(t, strlen(t), &e);
	if (!back || !json_equal(v, back)) {
		fprintf(stderr, "round trip differs: %s\n--- encoded:\n%s\n", back ? "values" : e.msg, t);
		abort();
	}
	json_decref(back);
	free(t);
	json_decref(v);
	return 0;
}
