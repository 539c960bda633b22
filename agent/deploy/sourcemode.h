/* sourcemode.h — the three modes of a service (CI image, source from a hostPath, source synced), their names, and which ones a Deployment's annotations allow (pure; no I/O). */
#ifndef SM_SOURCEMODE_H
#define SM_SOURCEMODE_H

#include <jansson.h>

/* The modes, in the order the dashboard offers them. The values are what workers_source takes. */
enum sourcemode {
	SOURCEMODE_CI = 0,       /* the CI image ("ci"): not in the source-mode state */
	SOURCEMODE_HOSTPATH = 1, /* source mode, the source from a hostPath ("hostpath"; state value true) */
	SOURCEMODE_SYNC = 2,     /* synced source mode, an emptyDir filled by `appdeploy dev` ("sync"; state "sync") */
};

/* Annotation listing the source modes a Deployment's template supports, comma-separated
 * ("hostpath,sync"). Absent: "hostpath" (a Deployment with only sourcemode.dev/runner has the one
 * source mode it always had). */
#define SOURCEMODE_ANNOTATION_MODES "sourcemode.dev/source-modes"
#define SOURCEMODE_ANNOTATION_RUNNER "sourcemode.dev/runner"

/* "ci", "hostpath", "sync" -> the mode; anything else -1. */
int sourcemode_parse(const char *name);
/* The mode's name ("ci", "hostpath", "sync"); "ci" for anything out of range. */
const char *sourcemode_name(int mode);
/* The dashboard job kind that switches to mode: "source-off", "source-on", "source-sync". */
const char *sourcemode_job_kind(int mode);
/* How a job's output says it: "off", "on (source from a hostPath)", "on (synced)". */
const char *sourcemode_said(int mode);
/* A state value (true, "sync", anything else) -> SOURCEMODE_HOSTPATH, SOURCEMODE_SYNC, SOURCEMODE_CI. */
int sourcemode_of_state(json_t *value);

/* The modes a Deployment offers, as a bit set (1 << mode): none without a runner annotation (runner
 * NULL), else the CI image plus the modes listed in modes (NULL: hostpath only). Unknown names in
 * the list are left out; a list with no known name counts as absent. */
unsigned sourcemode_allowed(const char *runner, const char *modes);
/* The same as a new JSON array of names, in mode order (["ci", "hostpath", "sync"]). */
json_t *sourcemode_allowed_json(unsigned allowed);

#endif
