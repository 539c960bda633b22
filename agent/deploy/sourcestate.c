/* sourcestate.c — loads and saves the source-mode state (ConfigMap appdeploy-source-mode) through the kube client. */
#include "sourcestate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

int sourcestate_load(struct kube *k, const char *ns, json_t **out, struct sm_error *err)
{
	struct kube_req r = {.method = KUBE_GET};
	*out = NULL;
	if (asprintf(&r.path, "/api/v1/namespaces/%s/configmaps/%s", ns, SOURCESTATE_NAME) < 0)
		return -1;
	kube_do(k, &r, 1);
	if (r.status == 404) {
		kube_req_clear(&r);
		*out = json_object();
		return 0;
	}
	if (r.status < 200 || r.status > 299) {
		sm_error_set(err, NULL, 0, 0, "reading the source-mode state (configmap %s): %s", SOURCESTATE_NAME, r.err);
		kube_req_clear(&r);
		return -1;
	}
	*out = sourcestate_from_data(json_object_get(r.response, "data"));
	kube_req_clear(&r);
	return 0;
}

json_t *sourcestate_from_data(json_t *data)
{
	json_t *state = json_object(), *v;
	const char *key;
	json_object_foreach(data, key, v) {
		const char *s = json_string_value(v) ?: "";
		if (!strcmp(s, "true"))
			json_object_set_new(state, key, json_true());
		else if (!strcmp(s, "sync"))
			json_object_set_new(state, key, json_string("sync"));
	}
	return state;
}

const char *sourcestate_mode(json_t *state, const char *service)
{
	json_t *v = json_object_get(state, service);
	if (json_is_string(v) && !strcmp(json_string_value(v), "sync"))
		return "sync";
	return json_is_true(v) ? "hostpath" : NULL;
}

static json_t *state_object(const char *ns, json_t *state)
{
	json_t *data = json_object(), *v;
	const char *key;
	json_object_foreach(state, key, v) {
		const char *mode = sourcestate_mode(state, key);
		if (mode)
			json_object_set_new(data, key, json_string(!strcmp(mode, "sync") ? "sync" : "true"));
	}
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:o}", "apiVersion", "v1", "kind", "ConfigMap",
			 "metadata", "name", SOURCESTATE_NAME, "namespace", ns, "labels", RENDER_LABEL_MANAGED_BY,
			 RENDER_MANAGED_BY, SOURCESTATE_LABEL, SOURCESTATE_LABEL_VALUE, "data", data);
}

int sourcestate_save(struct kube *k, const char *ns, json_t *state, struct sm_error *err)
{
	json_t *body = state_object(ns, state);
	int rc = -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		struct kube_req r = {.method = KUBE_APPLY, .body = body};
		if (asprintf(&r.path, "/api/v1/namespaces/%s/configmaps/%s?fieldManager=appdeploy&force=true", ns,
			     SOURCESTATE_NAME) < 0)
			break;
		kube_do(k, &r, 1);
		if (r.status >= 200 && r.status <= 299) {
			kube_req_clear(&r);
			rc = 0;
			break;
		}
		sm_error_set(err, NULL, 0, 0, "saving the source-mode state (configmap %s): %s", SOURCESTATE_NAME, r.err);
		int missing_ns = r.status == 404 && attempt == 0;
		kube_req_clear(&r);
		if (!missing_ns)
			break;
		/* the namespace does not exist yet (nothing applied so far): create it, then retry */
		struct kube_req c = {.method = KUBE_POST, .path = strdup("/api/v1/namespaces")};
		c.body = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", ns);
		kube_do(k, &c, 1);
		json_decref(c.body);
		int ok = (c.status >= 200 && c.status <= 299) || c.status == 409;
		if (!ok)
			sm_error_set(err, NULL, 0, 0, "creating namespace %s for the source-mode state: %s", ns, c.err);
		kube_req_clear(&c);
		if (!ok)
			break;
	}
	json_decref(body);
	return rc;
}
