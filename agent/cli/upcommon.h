/* upcommon.h — what `appdeploy up` and `down` share: their own flags, one-request helpers, the quiet sink. */
#ifndef SM_UPCOMMON_H
#define SM_UPCOMMON_H

#include <jansson.h>

#include "diag.h"
#include "kube.h"

/* One of up's or down's own flags: name, whether it takes a value, where the value (or "1") goes. */
struct up_flag {
	const char *name;
	int takes_value;
	const char **value;
};

/* Takes the flags of table (n entries) out of argv, leaving the rest (render/apply flags) for cmd_opts_parse.
 * Returns 0, or 2 after a usage message naming cmd. */
int up_take_flags(const char *cmd, int *argc, char **argv, const struct up_flag *table, size_t n);

/* One request, not retried past kube_do's own retries: the status (0 when none came), *out the answer (a new
 * reference or NULL), err text into errbuf. path is copied. */
long up_request(struct kube *k, enum kube_method m, const char *path, json_t *body, json_t **out, char *errbuf,
		size_t cap);

/* A sink that drops progress lines and passes the rest to the CLI's (for dry runs nobody needs to read). */
extern const struct diag up_quiet_diag;

#endif
