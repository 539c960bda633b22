/* agentdir.c — finds the agent's manifest folder (minimal version; the "up" branch owns the full one). */
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
	return p && !stat(p, &st) && S_ISDIR(st.st_mode);
}

char *agent_manifest_dir(void)
{
	const char *env = getenv("APPDEPLOY_AGENT_DIR");
	if (env && *env)
		return is_dir(env) ? strdup(env) : NULL;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	static const char *const rel[] = {"/../share/appdeploy/agent", "/../deploy/agent"};
	for (size_t i = 0; i < 2; i++) {
		char *p;
		if (asprintf(&p, "%s%s", exe, rel[i]) < 0)
			return NULL;
		if (is_dir(p))
			return p;
		free(p);
	}
	return NULL;
}
