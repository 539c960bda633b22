/* fuzz_sourcemodes.c — libFuzzer target for the source-mode names from the cluster: the sourcemode.dev/source-modes annotation (sourcemode.c), a --source value and the dashboard's mode name; never a crash, leak or a mode outside the three. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sourcemode.h"
#include "vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	unsigned allowed = sourcemode_allowed("go", s);
	if (!(allowed & 1u << SOURCEMODE_CI) || allowed >= 8 || allowed == 1)
		abort(); /* CI image and at least one source mode, nothing else */
	json_t *names = sourcemode_allowed_json(allowed);
	json_decref(names);
	int m = sourcemode_parse(s);
	if (m < -1 || m > SOURCEMODE_SYNC)
		abort();
	json_t *state = json_object();
	struct sm_error err;
	vars_source_set(state, s, &err);
	json_decref(state);
	free(s);
	return 0;
}
