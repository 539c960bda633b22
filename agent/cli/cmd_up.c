/* cmd_up.c — `appdeploy up DIR`: apply the set, install the agent in its namespace with the configuration (git or a bundle), wait, forward its dashboard. */
#include <errno.h>
#include <stdarg.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentdir.h"
#include "agentrbac.h"
#include "agentset.h"
#include "base64.h"
#include "bundle.h"
#include "cmd_common.h"
#include "commands.h"
#include "duration.h"
#include "forward.h"
#include "gitsrc.h"
#include "ownership.h"
#include "pipeline.h"
#include "slurp.h"
#include "upcommon.h"
#include "wait.h"
#include "yamlemit.h"

#define DEFAULT_LISTEN "127.0.0.1:8090"

struct up_state {
	const char *cmd;
	struct pipeline_prepared p;
	const char *ns, *ns2, *set, *dir;
	const char *cred_file;
	char *cred_text;
	size_t cred_len;
	struct gitsrc git;
	json_t *bundle;     /* the bundle ConfigMap, or NULL in git mode */
	json_t *vars;       /* the agent set's variables */
	json_t *agent_objs; /* its render */
	char agent_dir[PATH_MAX + 256];
	char *images_extra; /* bundle mode: the image list from outside DIR that the bundle carries */
	int ns2_missing, ns2_created;
	char **absent; /* paths of the agent's objects that did not exist before this run */
	size_t n_absent;
};

static void fail(struct up_state *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct up_state *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fprintf(stderr, "appdeploy %s: ", u->cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* path of `to` relative to directory `from` (both canonical absolute), with "../" as needed; malloc'd. */
static char *relpath(const char *from, const char *to)
{
	size_t i = 0, last = 0;
	while (from[i] && from[i] == to[i]) {
		if (from[i] == '/')
			last = i;
		i++;
	}
	if (!from[i] && (to[i] == '/' || !to[i]))
		last = i;
	const char *rest = to[last] == '/' ? to + last + 1 : to + last;
	size_t ups = 0;
	for (const char *q = from + last; *q; q++)
		ups += *q == '/' && q[1];
	char *out = malloc(ups * 3 + strlen(rest) + 1);
	out[0] = 0;
	for (size_t k = 0; k < ups; k++)
		strcat(out, "../");
	strcat(out, rest);
	return out;
}

/* .Variables.imagesPath: the image list as the agent finds it in its copy of the configuration. */
static int images_path(struct up_state *u, const char *images, char **out)
{
	*out = strdup("");
	if (!images)
		return 0;
	free(*out);
	if (strstr(images, "://")) {
		*out = strdup(images); /* a URL: the agent fetches it as up did */
		return 0;
	}
	char *file = realpath(images, NULL), *dir = realpath(u->dir, NULL), *top = NULL;
	*out = NULL;
	int rc = -1;
	if (!file || !dir) {
		fail(u, "--images %s: %s", images, strerror(errno));
		goto out;
	}
	if (u->git.is_git) {
		/* the repository's top: DIR minus its path inside the repository */
		top = strdup(dir);
		size_t tl = strlen(top), pl = strlen(u->git.path);
		if (pl && tl > pl)
			top[tl - pl - 1] = 0;
	}
	const char *root = top ? top : dir;
	size_t rl = strlen(root);
	int inside = !strncmp(file, root, rl) && file[rl] == '/';
	if (!inside && u->git.is_git) {
		fail(u,
		     "--images %s is outside the repository %s, which is all the agent gets (it clones it): commit the "
		     "image list into it, or give its URL. Nothing was written",
		     images, root);
		goto out;
	}
	if (!inside) { /* the bundle carries it, under a name the render passes over */
		u->images_extra = file;
		file = NULL;
		*out = strdup(BUNDLE_IMAGES_NAME);
	} else
		*out = relpath(dir, file);
	rc = 0;
out:
	free(file);
	free(dir);
	free(top);
	return rc;
}

static json_t *agent_vars(struct up_state *u, const struct cmd_opts *c, const char *interval, const char *images_rel,
			  json_t *rules, json_t *crules)
{
	json_t *set_vars = json_object();
	for (size_t i = 0; i < c->n_vars; i++) {
		const char *a = c->vars[i], *eq = strchr(a, '=');
		if (!eq)
			eq = strchr(a, ':'); /* kube-appdeploy's key:value */
		if (eq && eq > a) {
			char *key = strndup(a, (size_t)(eq - a));
			json_object_set_new(set_vars, key, json_string(eq + 1));
			free(key);
		}
	}
	int git = u->git.is_git;
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:O,s:O}", "targetNamespace", u->ns,
			 "agentNamespace", u->ns2, "configSource", git ? "git" : "bundle", "gitURL",
			 git ? u->git.url : "", "gitRef", git ? u->git.ref : "", "gitPath", git ? u->git.path : "",
			 "gitCredentials", u->cred_file ? AGENTSET_GIT_SECRET : "", "imagesPath", images_rel,
			 "interval", interval, "setName", u->set, "setVars", set_vars, "rules", rules, "clusterRules",
			 crules);
}

/* The objects up writes beside the agent set: the git Secret, the bundle, the agent variables. */
static json_t *side_objects(struct up_state *u)
{
	json_t *v = json_array();
	if (u->cred_text) {
		char *b64 = base64_encode(u->cred_text, u->cred_len);
		json_array_append_new(v, json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:s,s:{s:s}}", "apiVersion", "v1",
						   "kind", "Secret", "metadata", "name", AGENTSET_GIT_SECRET,
						   "namespace", u->ns2, "labels", "app.kubernetes.io/name", "appdeploy",
						   "app.kubernetes.io/component", "agent", "type", "Opaque", "data",
						   AGENTSET_GIT_KEY, b64));
		explicit_bzero(b64, strlen(b64));
		free(b64);
	}
	if (u->bundle)
		json_array_append(v, u->bundle);
	size_t len;
	char *yaml = yaml_emit(u->vars, &len);
	json_array_append_new(v,
			      json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:{s:s}}", "apiVersion", "v1", "kind",
					"ConfigMap", "metadata", "name", AGENTSET_VARS_CONFIGMAP, "namespace", u->ns2,
					"labels", "app.kubernetes.io/name", "appdeploy", "app.kubernetes.io/component",
					"agent", "data", AGENTSET_VARS_KEY, yaml ? yaml : ""));
	free(yaml);
	return v;
}

static char *side_path(json_t *o, const char *ns2)
{
	char *path;
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
	if (asprintf(&path, "/api/v1/namespaces/%s/%s/%s", ns2, !strcmp(kind, "Secret") ? "secrets" : "configmaps",
		     name) < 0)
		return NULL;
	return path;
}

/* Server-side applies the side objects (dry_run: the server only checks them). Returns 0 or -1 (said). */
static int write_side(struct up_state *u, json_t *side, int dry_run)
{
	size_t i;
	json_t *o;
	kube_set_dry_run(u->p.k, dry_run);
	int rc = 0;
	json_array_foreach(side, i, o)
	{
		char *base = side_path(o, u->ns2), *path;
		if (asprintf(&path, "%s?fieldManager=%s&force=true", base, AGENTSET_FIELD_MANAGER) < 0)
			path = NULL;
		char why[1024];
		long st = up_request(u->p.k, KUBE_APPLY, path, o, NULL, why, sizeof why);
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
		if (st < 200 || st > 299) {
			fail(u, "writing %s/%s in namespace %s: %s", !strcmp(kind, "Secret") ? "secret" : "configmap",
			     name, u->ns2, why);
			rc = -1;
		} else if (!dry_run) {
			if (!strcmp(kind, "Secret"))
				printf("secret/%s written (the credentials of %s, not shown)\n", name, u->cred_file);
			else if (!strcmp(name, BUNDLE_CONFIGMAP))
				printf("configmap/%s written (%s as a bundle, digest %.12s)\n", name, u->dir,
				       json_string_value(json_object_get(json_object_get(o, "data"), "digest")));
			else
				printf("configmap/%s written (the agent's variables)\n", name);
		}
		free(base);
		free(path);
		if (rc)
			break;
	}
	kube_set_dry_run(u->p.k, 0);
	return rc;
}

static void add_absent(struct up_state *u, char *path)
{
	u->absent = realloc(u->absent, (u->n_absent + 1) * sizeof *u->absent);
	u->absent[u->n_absent++] = path;
}

/* Notes which of the objects this run may create do not exist yet (the rollback deletes only those). */
static void note_absent(struct up_state *u, json_t *side)
{
	size_t i;
	json_t *e;
	json_array_foreach(u->agent_objs, i, e)
	{
		json_t *o = json_object_get(e, "object");
		const struct kube_resource *r = kube_find(u->p.k, json_string_value(json_object_get(o, "apiVersion")),
							  json_string_value(json_object_get(o, "kind")));
		json_t *md = json_object_get(o, "metadata");
		if (!r)
			continue;
		char *path = kube_path(r, r->namespaced ? json_string_value(json_object_get(md, "namespace")) : NULL,
				       json_string_value(json_object_get(md, "name")), NULL);
		if (u->ns2_missing && r->namespaced &&
		    !strcmp(json_string_value(json_object_get(md, "namespace")), u->ns2))
			add_absent(u, path); /* everything in a namespace that does not exist yet */
		else if (up_request(u->p.k, KUBE_GET, path, NULL, NULL, NULL, 0) == 404)
			add_absent(u, path);
		else
			free(path);
	}
	json_array_foreach(side, i, e)
	{
		char *path = side_path(e, u->ns2);
		if (u->ns2_missing || up_request(u->p.k, KUBE_GET, path, NULL, NULL, NULL, 0) == 404)
			add_absent(u, path);
		else
			free(path);
	}
	char *inv = own_inventory_name(AGENTSET_NAME);
	const char *nss[] = {u->ns, u->ns2};
	for (int j = 0; j < 2; j++) {
		char *path;
		if (asprintf(&path, "/api/v1/namespaces/%s/configmaps/%s", nss[j], inv) < 0)
			continue;
		if ((j == 1 && u->ns2_missing) || up_request(u->p.k, KUBE_GET, path, NULL, NULL, NULL, 0) == 404)
			add_absent(u, path);
		else
			free(path);
	}
	free(inv);
}

/* After a failure past the first write: deletes what this run created, newest first. */
static void rollback(struct up_state *u)
{
	fprintf(stderr, "appdeploy %s: rolling back what this run created of the agent\n", u->cmd);
	kube_set_dry_run(u->p.k, 0); /* whatever the step that failed had set */
	for (size_t i = u->n_absent; i-- > 0;) {
		if (u->ns2_created && strstr(u->absent[i], "/namespaces/") &&
		    !strncmp(strstr(u->absent[i], "/namespaces/") + 12, u->ns2, strlen(u->ns2)) &&
		    strstr(u->absent[i], "/namespaces/")[12 + strlen(u->ns2)] == '/')
			continue; /* goes with the namespace */
		char why[1024];
		long st = up_request(u->p.k, KUBE_DELETE, u->absent[i], NULL, NULL, why, sizeof why);
		if (st >= 200 && st < 300)
			fprintf(stderr, "  deleted %s\n", u->absent[i]);
		else if (st != 404)
			fprintf(stderr, "  could not delete %s: %s (delete it by hand)\n", u->absent[i], why);
	}
	if (u->ns2_created) {
		char *path, why[1024];
		if (asprintf(&path, "/api/v1/namespaces/%s", u->ns2) >= 0) {
			long st = up_request(u->p.k, KUBE_DELETE, path, NULL, NULL, why, sizeof why);
			if (st >= 200 && st < 300)
				fprintf(stderr, "  deleted namespace %s (this run created it)\n", u->ns2);
			else
				fprintf(stderr, "  could not delete namespace %s: %s (kubectl delete namespace %s)\n",
					u->ns2, why, u->ns2);
			free(path);
		}
	}
}

/* The agent namespace: *missing when absent, after checking with a dry-run create that we may create it. */
static int check_ns2(struct up_state *u)
{
	char *path, why[1024];
	if (asprintf(&path, "/api/v1/namespaces/%s", u->ns2) < 0)
		return -1;
	json_t *live = NULL;
	long st = up_request(u->p.k, KUBE_GET, path, NULL, &live, why, sizeof why);
	free(path);
	if (st == 200) {
		const char *phase = json_string_value(json_object_get(json_object_get(live, "status"), "phase"));
		int terminating = phase && !strcmp(phase, "Terminating");
		json_decref(live);
		if (terminating) {
			fail(u,
			     "namespace %s is being deleted (Terminating): wait until it is gone (kubectl get namespace %s) "
			     "and run up again. Nothing was written",
			     u->ns2, u->ns2);
			return -1;
		}
		return 0;
	}
	json_decref(live);
	if (st != 404) {
		fail(u, "reading namespace %s: %s. Nothing was written", u->ns2, why);
		return -1;
	}
	u->ns2_missing = 1;
	json_t *ns =
		json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", u->ns2);
	kube_set_dry_run(u->p.k, 1);
	st = up_request(u->p.k, KUBE_POST, "/api/v1/namespaces", ns, NULL, why, sizeof why);
	kube_set_dry_run(u->p.k, 0);
	json_decref(ns);
	if (st < 200 || st > 299) {
		fail(u,
		     "the agent's namespace %s does not exist and cannot be created: %s. Ask a cluster admin to create it "
		     "(kubectl create namespace %s), or choose another with --agent-namespace NS. Nothing was written",
		     u->ns2, why, u->ns2);
		return -1;
	}
	return 0;
}

static int create_ns2(struct up_state *u)
{
	char why[1024];
	json_t *ns = json_pack("{s:s,s:s,s:{s:s,s:{s:s}}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name",
			       u->ns2, "labels", AGENTSET_LABEL_CREATED_BY, AGENTSET_CREATED_BY);
	long st = up_request(u->p.k, KUBE_POST, "/api/v1/namespaces", ns, NULL, why, sizeof why);
	json_decref(ns);
	if (st < 200 || st > 299) {
		fail(u, "creating namespace %s: %s", u->ns2, why);
		return -1;
	}
	u->ns2_created = 1;
	printf("namespace/%s created\n", u->ns2);
	return 0;
}

static int wait_agent(struct up_state *u, double timeout)
{
	const struct kube_resource *r = kube_find(u->p.k, "apps/v1", "Deployment");
	if (!r) {
		fail(u, "the server has no apps/v1 Deployments");
		return -1;
	}
	struct wait_target t = {.res = r, .name = AGENTSET_DEPLOYMENT, .label = "deployment.apps/" AGENTSET_DEPLOYMENT};
	if (wait_ready(u->p.k, &t, 1, u->ns2, timeout, stdout)) {
		fail(u,
		     "the agent is installed but its Deployment did not become ready (see above): look at kubectl -n %s "
		     "describe deployment %s and kubectl -n %s logs deployment/%s; `appdeploy down` removes it",
		     u->ns2, AGENTSET_DEPLOYMENT, u->ns2, AGENTSET_DEPLOYMENT);
		return -1;
	}
	return 0;
}

static void up_free(struct up_state *u)
{
	pipeline_prepared_free(&u->p);
	if (u->cred_text) {
		explicit_bzero(u->cred_text, u->cred_len);
		free(u->cred_text);
	}
	gitsrc_free(&u->git);
	free(u->images_extra);
	json_decref(u->bundle);
	json_decref(u->vars);
	json_decref(u->agent_objs);
	for (size_t i = 0; i < u->n_absent; i++)
		free(u->absent[i]);
	free(u->absent);
}

int cmd_up(int argc, char **argv)
{
	const char *agent_ns = NULL, *creds = NULL, *interval = NULL, *listen = NULL, *detach = NULL;
	const struct up_flag flags[] = {
		{"--agent-namespace", 1, &agent_ns},
		{"--git-credentials", 1, &creds},
		{"--interval", 1, &interval},
		{"--listen", 1, &listen},
		{"--detach", 0, &detach},
	};
	int rc = up_take_flags("up", &argc, argv, flags, sizeof flags / sizeof flags[0]);
	if (rc)
		return rc;
	struct cmd_opts c;
	if ((rc = cmd_opts_parse(argc, argv, 1, &c)))
		return rc;
	const char *refused = c.n_var_files      ? "-f"
			      : c.n_sources      ? "--source"
			      : c.n_pull_secrets ? "-i"
			      : c.pl.dry_run     ? "--dry-run"
						 : NULL;
	if (refused) {
		fprintf(stderr,
			"appdeploy up: %s is not a flag of up: the agent renders DIR with DIR/variables.yaml and the -v values "
			"only (put such values into DIR/variables.yaml)\n",
			refused);
		cmd_opts_free(&c);
		return 2;
	}
	double secs;
	const char *why = NULL;
	if (interval && (duration_parse(interval, &secs, &why) || secs <= 0)) {
		fprintf(stderr, "appdeploy up: --interval %s: %s (e.g. 60s, 5m)\n", interval,
			why ? why : "must be positive");
		cmd_opts_free(&c);
		return 2;
	}
	struct up_state u = {
		.cmd = "up", .ns2 = agent_ns ? agent_ns : AGENTSET_DEFAULT_NS, .cred_file = creds, .dir = c.pl.dir};
	json_t *rules = NULL, *crules = NULL, *side = NULL;
	char *images_rel = NULL;
	rc = 1;

	/* --- 1. every check before the first write --- */
	struct sm_error err;
	if (creds) {
		u.cred_text = slurp(creds, 64 * 1024, &u.cred_len);
		if (!u.cred_text || !u.cred_len) {
			fail(&u,
			     "--git-credentials %s: %s (git-credential-store format: one https://USER:TOKEN@HOST line)",
			     creds, u.cred_text ? "the file is empty" : strerror(errno));
			goto out;
		}
	}
	if (pipeline_prepare(&c.pl, PIPELINE_APPLY, &cmd_diag, &u.p, &err)) {
		fail(&u, "%.1023s (DIR must be a set that renders: fix it and run up again)", err.msg);
		goto out;
	}
	u.ns = u.p.s.ns;
	u.set = u.p.s.set;
	if (!strcmp(u.ns, u.ns2)) {
		fail(&u,
		     "the agent's namespace must not be the target namespace %s: choose another with --agent-namespace",
		     u.ns);
		goto out;
	}
	if (!strcmp(u.set, AGENTSET_NAME)) {
		fail(&u, "the set name %s is the agent's own: give the set another with --set NAME", u.set);
		goto out;
	}
	if (kube_discover(u.p.k, &err)) {
		fail(&u, "%.1023s", err.msg);
		goto out;
	}
	if (agentrbac_rules(u.p.objs, agentrbac_kube_resolve, u.p.k, &rules, &crules, &err)) {
		fail(&u, "%.1023s. Nothing was written", err.msg);
		goto out;
	}
	if (gitsrc_detect(u.dir, &u.git, &err)) {
		fail(&u, "%.1023s. Nothing was written", err.msg);
		goto out;
	}
	if (images_path(&u, c.pl.images, &images_rel))
		goto out;
	if (u.git.is_git) {
		char warn[1024];
		if (gitsrc_check(&u.git, creds, warn, sizeof warn, &err)) {
			fail(&u, "%.1023s", err.msg);
			goto out;
		}
		printf("configuration: git %s %s%s%s (the agent clones it every %s)\n", u.git.url, u.git.ref,
		       *u.git.path ? " path " : "", u.git.path, interval ? interval : "60s");
		if (*warn)
			fprintf(stderr, "appdeploy up: warning: %s\n", warn);
	} else {
		if (creds) {
			fail(&u,
			     "--git-credentials is for a git remote, but %s is bundled instead (%s). Nothing was written",
			     u.dir, u.git.note);
			goto out;
		}
		unsigned char *tgz;
		size_t len, size;
		if (bundle_make_with(u.dir, u.images_extra, BUNDLE_IMAGES_NAME, &tgz, &len, &err)) {
			fail(&u, "%.1023s. Nothing was written", err.msg);
			goto out;
		}
		u.bundle = bundle_configmap(u.dir, u.ns2, tgz, len, &size, &err);
		free(tgz);
		if (!u.bundle) {
			fail(&u, "%.1023s", err.msg);
			goto out;
		}
		printf("configuration: a bundle of %s, %zu bytes (%s; up uploads it again on the next run)\n", u.dir,
		       size, u.git.note);
	}
	u.vars = agent_vars(&u, &c, interval ? interval : "60s", images_rel, rules, crules);
	if (agent_manifest_dir(u.agent_dir, sizeof u.agent_dir)) {
		fail(&u, "cannot find the agent's manifests: looked at %s", u.agent_dir);
		goto out;
	}
	if (agentset_render(u.agent_dir, u.vars, json_object_get(u.p.s.data, "Images"), &u.agent_objs, &err)) {
		fail(&u, "%.1023s", err.msg);
		goto out;
	}
	if (check_ns2(&u))
		goto out;
	side = side_objects(&u);
	if (!u.ns2_missing && (write_side(&u, side, 1) ||
			       agentset_apply(u.p.k, u.agent_objs, u.vars, u.agent_dir, 1, 0, &up_quiet_diag, &err))) {
		if (err.msg[0])
			fail(&u, "the agent would not install: %.1023s. Nothing was written", err.msg);
		goto out;
	}

	/* --- 2. the set, as apply does --- */
	if (pipeline_save_sources(u.p.k, &c.pl, u.ns, &cmd_diag, &err) ||
	    pipeline_apply(u.p.k, &c.pl, u.ns, u.set, u.p.objs, &cmd_diag, &err)) {
		fail(&u, "%.1023s; the agent was not installed", err.msg);
		goto out;
	}

	/* --- 3. the agent: its namespace, the configuration, its set; all of it or none --- */
	printf("installing the agent in namespace %s (set %s)\n", u.ns2, AGENTSET_NAME);
	note_absent(&u, side);
	err.msg[0] = 0;
	if ((u.ns2_missing && create_ns2(&u)) || write_side(&u, side, 1) ||
	    agentset_apply(u.p.k, u.agent_objs, u.vars, u.agent_dir, 1, 0, &up_quiet_diag, &err)) {
		if (err.msg[0])
			fail(&u, "the agent would not install: %.1023s", err.msg);
		rollback(&u);
		goto out;
	}
	if (write_side(&u, side, 0) ||
	    agentset_apply(u.p.k, u.agent_objs, u.vars, u.agent_dir, 0, 0, &cmd_diag, &err)) {
		if (err.msg[0])
			fail(&u, "installing the agent: %.1023s", err.msg);
		rollback(&u);
		goto out;
	}

	/* what an earlier up wrote for another source is no longer read: a bundle once git serves, a Secret once
	 * no credentials are needed */
	const char *stale[2][3] = {
		{u.git.is_git ? "configmaps" : NULL, BUNDLE_CONFIGMAP, "the configuration comes from git now"},
		{u.cred_file ? NULL : "secrets", AGENTSET_GIT_SECRET, "no credentials given"}};
	for (int i = 0; i < 2; i++) {
		char *path;
		if (!stale[i][0] || asprintf(&path, "/api/v1/namespaces/%s/%s/%s", u.ns2, stale[i][0], stale[i][1]) < 0)
			continue;
		long st = up_request(u.p.k, KUBE_DELETE, path, NULL, NULL, NULL, 0);
		if (st >= 200 && st < 300)
			printf("%s/%s deleted (%s)\n", i ? "secret" : "configmap", stale[i][1], stale[i][2]);
		free(path);
	}

	/* --- 4. ready, then the dashboard --- */
	if (wait_agent(&u, c.pl.wait_timeout))
		goto out;
	if (detach) {
		printf("the agent is running. Its dashboard, through the API server:\n"
		       "  kubectl proxy\n"
		       "  http://127.0.0.1:8001/api/v1/namespaces/%s/services/%s:http/proxy/\n",
		       u.ns2, AGENTSET_DEPLOYMENT);
		rc = 0;
		goto out;
	}
	fflush(stdout);
	rc = forward_run(&u.p.kc, u.ns2, listen ? listen : DEFAULT_LISTEN) ? 1 : 0;
out:
	fflush(stdout);
	free(images_rel);
	json_decref(side);
	json_decref(rules);
	json_decref(crules);
	up_free(&u);
	cmd_opts_free(&c);
	return rc;
}
