/* sourcestate.c — loads, saves and updates the source-mode state (ConfigMap appdeploy-source-mode) through the kube
 * client. */
#include "sourcestate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

/* The ConfigMap as the API server has it into *live (NULL when it does not exist). 0, or -1 with err filled. */
static int read_configmap(struct kube *k, const char *ns, json_t **live, struct sm_error *err)
{
	struct kube_req r = {.method = KUBE_GET};
	*live = NULL;
	if (asprintf(&r.path, "/api/v1/namespaces/%s/configmaps/%s", ns, SOURCESTATE_NAME) < 0)
		return -1;
	kube_do(k, &r, 1);
	if (r.status != 404 && (r.status < 200 || r.status > 299)) {
		sm_error_set(err, NULL, 0, 0, "reading the source-mode state (configmap %s): %s", SOURCESTATE_NAME, r.err);
		kube_req_clear(&r);
		return -1;
	}
	if (r.status != 404)
		*live = json_incref(r.response);
	kube_req_clear(&r);
	return 0;
}

int sourcestate_load(struct kube *k, const char *ns, json_t **out, struct sm_error *err)
{
	json_t *live;
	*out = NULL;
	if (read_configmap(k, ns, &live, err))
		return -1;
	*out = sourcestate_from_data(json_object_get(live, "data"));
	json_decref(live);
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

/* Creates namespace ns (the source state may be the first thing written there). 0 also when it exists. */
static int create_namespace(struct kube *k, const char *ns, struct sm_error *err)
{
	struct kube_req c = {.method = KUBE_POST, .path = strdup("/api/v1/namespaces")};
	int ok;

	c.body = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", ns);
	kube_do(k, &c, 1);
	json_decref(c.body);
	ok = (c.status >= 200 && c.status <= 299) || c.status == 409;
	if (!ok)
		sm_error_set(err, NULL, 0, 0, "creating namespace %s for the source-mode state: %s", ns, c.err);
	kube_req_clear(&c);
	return ok ? 0 : -1;
}

#define UPDATE_ATTEMPTS 5

int sourcestate_update(struct kube *k, const char *ns, sourcestate_edit_fn edit, void *arg, json_t **state_out,
		       int *changed, struct sm_error *err)
{
	*state_out = NULL;
	*changed = 0;
	for (int attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
		struct kube_req w = {0};
		json_t *live, *state, *before, *body, *md;
		int same, existed;

		if (read_configmap(k, ns, &live, err))
			return -1;
		existed = live != NULL;
		state = sourcestate_from_data(json_object_get(live, "data"));
		before = json_deep_copy(state);
		if (edit(state, arg, err)) {
			json_decref(before);
			json_decref(state);
			json_decref(live);
			return -1;
		}
		same = json_equal(before, state);
		json_decref(before);
		if (same) {
			json_decref(live);
			*state_out = state;
			return 0;
		}
		/* the ConfigMap as read, with the new data and our labels: a PUT carrying its resourceVersion is
		 * refused (409 Conflict) when another writer came in between; a missing one is created (409
		 * AlreadyExists when another writer created it first). Either way: read and edit again.
		 * https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions */
		body = state_object(ns, state);
		if (live) {
			md = json_deep_copy(json_object_get(live, "metadata"));
			json_object_del(md, "managedFields");
			if (!json_is_object(json_object_get(md, "labels")))
				json_object_set_new(md, "labels", json_object());
			json_object_update(json_object_get(md, "labels"),
					   json_object_get(json_object_get(body, "metadata"), "labels"));
			json_object_set_new(body, "metadata", md);
			w.method = KUBE_PUT;
			if (asprintf(&w.path, "/api/v1/namespaces/%s/configmaps/%s?fieldManager=appdeploy", ns,
				     SOURCESTATE_NAME) < 0)
				w.path = NULL;
		} else {
			w.method = KUBE_POST;
			if (asprintf(&w.path, "/api/v1/namespaces/%s/configmaps?fieldManager=appdeploy", ns) < 0)
				w.path = NULL;
		}
		json_decref(live);
		w.body = body;
		if (w.path)
			kube_do(k, &w, 1);
		json_decref(body);
		if (w.path && w.status >= 200 && w.status <= 299) {
			kube_req_clear(&w);
			*state_out = state;
			*changed = 1;
			return 0;
		}
		json_decref(state);
		if (!w.path || w.status != 409) {
			int missing_ns = w.path && w.status == 404 && !existed;

			sm_error_set(err, NULL, 0, 0, "saving the source-mode state (configmap %s): %s", SOURCESTATE_NAME,
				     w.path ? w.err : "out of memory");
			kube_req_clear(&w);
			if (missing_ns && create_namespace(k, ns, err) == 0)
				continue; /* nothing applied there so far: the namespace now exists */
			return -1;
		}
		kube_req_clear(&w);
	}
	sm_error_set(err, NULL, 0, 0, "saving the source-mode state (configmap %s): changed by another writer %d times "
		     "in a row; try again", SOURCESTATE_NAME, UPDATE_ATTEMPTS);
	return -1;
}
