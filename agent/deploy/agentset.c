/* agentset.c — the agent's own set (agentset.h): rendered from agent_manifest_dir(), applied as two sets through the pipeline. */
#include "agentset.h"

#include <stdio.h>
#include <string.h>

#include "pipeline.h"
#include "render.h"
#include "vars.h"
#include "version.h"

int agentset_render(const char *dir, json_t *vars, json_t *images, json_t **objs, struct sm_error *err)
{
	const char *ns = json_string_value(json_object_get(vars, "agentNamespace"));
	json_t *img = images && json_is_object(images) ? json_deep_copy(images) : json_object();
	if (!json_is_string(json_object_get(img, "appdeploy")))
		json_object_set_new(img, "appdeploy", json_string("sourcemode/appdeploy:" APPDEPLOY_VERSION));
	struct vars_opts vo = {.namespace_ = ns ? ns : AGENTSET_DEFAULT_NS, .images = img};
	json_t *data = vars_build(&vo, err);
	json_decref(img);
	if (!data)
		return -1;
	json_object_set(data, "Variables", vars);
	struct sm_error re = {0};
	int rc = render_dir(dir, data, AGENTSET_NAME, objs, &re);
	json_decref(data);
	if (rc)
		sm_error_set(err, NULL, 0, 0, "the agent's manifests (%s) do not render: %s", dir, re.msg);
	return rc;
}

void agentset_split(json_t *objs, const char *agent_ns, json_t **self, json_t **grants)
{
	*self = json_array();
	*grants = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(objs, i, e)
	{
		const char *ns = json_string_value(
			json_object_get(json_object_get(json_object_get(e, "object"), "metadata"), "namespace"));
		json_array_append(ns && !strcmp(ns, agent_ns) ? *self : *grants, e);
	}
}

int agentset_apply(struct kube *k, json_t *objs, json_t *vars, const char *dir, int dry_run, int self_only,
		   const struct diag *d, struct sm_error *err)
{
	const char *ns2 = json_string_value(json_object_get(vars, "agentNamespace"));
	const char *ns = json_string_value(json_object_get(vars, "targetNamespace"));
	if (!ns || !ns2) {
		sm_error_set(err, NULL, 0, 0, "the agent's variables lack targetNamespace or agentNamespace");
		return -1;
	}
	json_t *self, *grants;
	agentset_split(objs, ns2, &self, &grants);
	/* allow_empty: the grants part may hold nothing but the Role; take_over: the manifests' folder is
	 * wherever appdeploy is installed, not an origin that names the set */
	struct pipeline_opts o = {.dir = dir, .dry_run = dry_run, .take_over = 1, .allow_empty = 1};
	int rc = 0;
	if (!self_only && json_array_size(grants))
		rc = pipeline_apply(k, &o, ns, AGENTSET_NAME, grants, d, err);
	if (!rc)
		rc = pipeline_apply(k, &o, ns2, AGENTSET_NAME, self, d, err);
	kube_set_dry_run(k, 0); /* sync leaves the client as its last run set it: hand it back writing for real */
	json_decref(self);
	json_decref(grants);
	return rc;
}
