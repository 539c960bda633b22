/* fuzz_strvals.c — libFuzzer target for chart values: --set parsing (chart_values.c) and coalescing into a chart's values; never a crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	struct sm_error err;
	json_t *vals = json_object();
	int as_string = size && (data[0] & 1);
	chart_strvals(vals, s, as_string, &err);
	/* a chart whose values.yaml is the same bytes, coalesced under the --set values */
	struct chart_file files[2] = {
		{"Chart.yaml", "apiVersion: v2\nname: f\nversion: 1.0.0\n", 38},
		{"values.yaml", s, size},
	};
	struct chart *c = chart_load_files(files, 2, &err);
	if (c) {
		json_t *merged = chart_coalesce(c, vals, &err);
		json_decref(merged);
		chart_free(c);
	}
	json_decref(vals);
	free(s);
	return 0;
}
