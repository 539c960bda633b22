/* fuzz_yaml.c — libFuzzer target for the YAML loader (common/yamlval.c): any bytes, never a crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include "yamlval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sm_error err;
	json_t *positions = NULL;
	json_t *docs = yv_load((const char *)data, size, "fuzz", 1, &positions, &err);
	int line, col;

	if (docs) {
		yv_position(positions, "0/a/b", 1, &line, &col);
		json_decref(docs);
		json_decref(positions);
	}
	return 0;
}
