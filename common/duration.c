/* duration.c — parses durations the way Go and Kubernetes users write them ("50ms", "1m30s"); the monotonic clock. */
#include "duration.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int duration_parse(const char *text, double *seconds, const char **why)
{
	static const struct {
		const char *unit;
		double scale;
	} units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}};
	const char *p = text;
	double total = 0;

	*why = NULL;
	if (!text || !*text) {
		*why = "empty duration";
		return -1;
	}
	if (!strcmp(text, "0")) {
		*seconds = 0;
		return 0;
	}
	while (*p) {
		char *end;
		double v;
		size_t best = 0;
		double scale = 0;

		if (!((*p >= '0' && *p <= '9') || *p == '.')) {
			*why = "a duration is a number with a unit, e.g. 50ms, 2s or 1m30s";
			return -1;
		}
		v = strtod(p, &end);
		if (end == p) {
			*why = "a duration is a number with a unit, e.g. 50ms, 2s or 1m30s";
			return -1;
		}
		p = end;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			size_t n = strlen(units[i].unit);

			if (!strncmp(p, units[i].unit, n) && n > best) {
				best = n;
				scale = units[i].scale;
			}
		}
		if (!best) {
			*why = "missing or unknown unit (use ns, us, ms, s, m or h)";
			return -1;
		}
		p += best;
		total += v * scale;
	}
	if (!isfinite(total) || total > 1e9) {
		*why = "duration out of range";
		return -1;
	}
	*seconds = total;
	return 0;
}

double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
