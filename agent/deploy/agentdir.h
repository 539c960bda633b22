/* agentdir.h — where the agent's own manifest templates (deploy/agent in the repository) are found at run time. */
#ifndef SM_AGENTDIR_H
#define SM_AGENTDIR_H

#include <stddef.h>

/*
 * The folder of the agent's manifests, first that exists of: $APPDEPLOY_AGENT_DIR (taken as given, even
 * when missing, so a wrong setting is reported rather than passed over), <dir of /proc/self/exe>/../share/
 * appdeploy/agent (an installed appdeploy, whatever PREFIX), <dir of exe>/../deploy/agent (build/appdeploy
 * in the source tree). Writes it to out; returns 0, or -1 with out holding the places looked at (for the
 * error message).
 */
int agent_manifest_dir(char *out, size_t cap);

#endif
