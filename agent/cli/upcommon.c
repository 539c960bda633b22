/* upcommon.c — `appdeploy up` and `down`'s shared helpers (upcommon.h). */
#include "upcommon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"

int up_take_flags(const char *cmd, int *argc, char **argv, const struct up_flag *table, size_t n)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const struct up_flag *f = NULL;
		const char *val = NULL;
		if (!strcmp(a, "--")) { /* the rest is not ours */
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		for (size_t j = 0; j < n && !f; j++) {
			size_t l = strlen(table[j].name);
			if (!strncmp(a, table[j].name, l) && (a[l] == 0 || (a[l] == '=' && table[j].takes_value))) {
				f = &table[j];
				val = a[l] == '=' ? a + l + 1 : NULL;
			}
		}
		if (!f) {
			argv[out++] = argv[i];
			continue;
		}
		if (f->takes_value && !val) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "appdeploy %s: %s needs a value\n", cmd, f->name);
				return 2;
			}
			val = argv[++i];
		}
		*f->value = f->takes_value ? val : "1";
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

long up_request(struct kube *k, enum kube_method m, const char *path, json_t *body, json_t **out, char *errbuf,
		size_t cap)
{
	struct kube_req r = {.method = m, .path = strdup(path), .body = body};
	if (out)
		*out = NULL;
	kube_do(k, &r, 1);
	long st = r.status;
	if (errbuf)
		snprintf(errbuf, cap, "%s", r.err);
	if (out && r.response)
		*out = json_incref(r.response);
	kube_req_clear(&r);
	return st;
}

static void quiet(void *arg, enum diag_kind kind, const char *text)
{
	(void)arg;
	if (kind != DIAG_PROGRESS)
		cmd_diag.fn(cmd_diag.arg, kind, text);
}

const struct diag up_quiet_diag = {quiet, NULL};
