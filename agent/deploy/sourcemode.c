/* sourcemode.c — names of the three service modes and the sourcemode.dev/source-modes annotation (sourcemode.h). */
#include "sourcemode.h"

#include <string.h>

static const char *const names[] = {"ci", "hostpath", "sync"};

int sourcemode_parse(const char *name)
{
	for (int i = 0; name && i < 3; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

const char *sourcemode_name(int mode)
{
	return mode >= 0 && mode < 3 ? names[mode] : names[0];
}

const char *sourcemode_job_kind(int mode)
{
	return mode == SOURCEMODE_SYNC ? "source-sync" : mode == SOURCEMODE_HOSTPATH ? "source-on" : "source-off";
}

const char *sourcemode_said(int mode)
{
	return mode == SOURCEMODE_SYNC ? "on (synced)" : mode == SOURCEMODE_HOSTPATH ? "on (source from a hostPath)" : "off";
}

int sourcemode_of_state(json_t *v)
{
	if (json_is_string(v) && !strcmp(json_string_value(v), "sync"))
		return SOURCEMODE_SYNC;
	return json_is_true(v) ? SOURCEMODE_HOSTPATH : SOURCEMODE_CI;
}

unsigned sourcemode_allowed(const char *runner, const char *modes)
{
	if (!runner)
		return 0;
	unsigned listed = 0;
	for (const char *p = modes; p && *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,");
		for (int i = SOURCEMODE_HOSTPATH; i <= SOURCEMODE_SYNC && n; i++)
			if (strlen(names[i]) == n && !strncmp(p, names[i], n))
				listed |= 1u << i;
		p += n;
	}
	return 1u << SOURCEMODE_CI | (listed ? listed : 1u << SOURCEMODE_HOSTPATH);
}

json_t *sourcemode_allowed_json(unsigned allowed)
{
	json_t *a = json_array();
	for (int i = 0; i < 3; i++)
		if (allowed & 1u << i)
			json_array_append_new(a, json_string(names[i]));
	return a;
}
