/* agentset.h — the in-cluster agent's own set: its names, the variables it is rendered with, its render from agent_manifest_dir(), its apply in two parts. */
#ifndef SM_AGENTSET_H
#define SM_AGENTSET_H

#include <jansson.h>

#include "diag.h"
#include "errbuf.h"
#include "kube.h"

#define AGENTSET_NAME "appdeploy-agent"           /* the set label and inventory of the agent's objects */
#define AGENTSET_DEFAULT_NS "appdeploy-system"    /* NS2 */
#define AGENTSET_VARS_CONFIGMAP "appdeploy-agent" /* NS2: data variables.yaml, what the set was rendered with */
#define AGENTSET_VARS_KEY "variables.yaml"
#define AGENTSET_GIT_SECRET "appdeploy-git-credentials" /* NS2: data credentials (git-credential-store lines) */
#define AGENTSET_GIT_KEY "credentials"
#define AGENTSET_LEASE "appdeploy"            /* coordination.k8s.io/v1 Lease in NS2 */
#define AGENTSET_DEPLOYMENT "appdeploy"       /* Deployment, Service and ServiceAccount in NS2 */
#define AGENTSET_FIELD_MANAGER "appdeploy-up" /* what up writes outside the set (the ConfigMaps, the Secret) */
/* On NS2 when `appdeploy up` created it: `down` deletes only such a namespace. */
#define AGENTSET_LABEL_CREATED_BY "appdeploy.sourcemode.dev/created-by"
#define AGENTSET_CREATED_BY "up"

/*
 * Renders the agent's manifests (dir: agent_manifest_dir()) with vars as .Variables (targetNamespace,
 * agentNamespace, configSource, gitURL, gitRef, gitPath, gitCredentials, imagesPath, interval, setName,
 * setVars, rules, clusterRules), .Namespace = agentNamespace and .Images = images (may be NULL) with
 * `appdeploy` defaulted to sourcemode/appdeploy:VERSION. Returns 0 with *objs (render_dir's array), or -1
 * with err filled.
 */
int agentset_render(const char *dir, json_t *vars, json_t *images, json_t **objs, struct sm_error *err);

/*
 * Applies a render of the agent set through the pipeline, as two sets of the same name: the objects in the
 * agent namespace as set appdeploy-agent there (the agent may re-apply this part itself), and the grants
 * (the Role and RoleBinding in the target namespace, the ClusterRole and its binding) as set appdeploy-agent
 * in the target namespace, unless self_only (an agent cannot widen its own rights; `appdeploy up` does that).
 * The set's origin is not checked (the manifests come from wherever appdeploy is installed). Progress lines
 * go to d. dry_run asks the server only; the client writes for real again after. Returns 0, or -1 with err filled.
 */
int agentset_apply(struct kube *k, json_t *objs, json_t *vars, const char *dir, int dry_run, int self_only,
		   const struct diag *d, struct sm_error *err);

/* The two parts of objs (new arrays): objects in agent_ns, and the rest. */
void agentset_split(json_t *objs, const char *agent_ns, json_t **self, json_t **grants);

#endif
