/* agentdir.c — finds the agent's manifest templates: $APPDEPLOY_AGENT_DIR, the install prefix beside the executable, the source tree. */
#include "agentdir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p)
{
	struct stat st;
	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

int agent_manifest_dir(char *out, size_t cap)
{
	const char *env = getenv("APPDEPLOY_AGENT_DIR");
	if (env && *env) {
		snprintf(out, cap, "%s", env);
		if (is_dir(out))
			return 0;
		snprintf(out, cap, "$APPDEPLOY_AGENT_DIR=%s (not a directory)", env);
		return -1;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(out, cap, "/proc/self/exe (unreadable; set APPDEPLOY_AGENT_DIR)");
		return -1;
	}
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	char a[PATH_MAX + 32], b[PATH_MAX + 32];
	snprintf(a, sizeof a, "%s/../share/appdeploy/agent", exe);
	snprintf(b, sizeof b, "%s/../deploy/agent", exe);
	const char *found = is_dir(a) ? a : is_dir(b) ? b : NULL;
	if (!found) {
		snprintf(out, cap, "%s, %s (neither exists; set APPDEPLOY_AGENT_DIR)", a, b);
		return -1;
	}
	char *rp = realpath(found, NULL);
	snprintf(out, cap, "%s", rp ? rp : found);
	free(rp);
	return 0;
}
