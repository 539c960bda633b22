/* agentdir.h — where the agent's own manifests (templates) are found at run time. */
#ifndef SM_AGENTDIR_H
#define SM_AGENTDIR_H

/* $APPDEPLOY_AGENT_DIR, else <dir of /proc/self/exe>/../share/appdeploy/agent, else <dir of exe>/../deploy/agent
 * (so build/appdeploy finds the repository's copy): the first that is a folder. malloc'd; NULL when none is. */
char *agent_manifest_dir(void);

#endif
