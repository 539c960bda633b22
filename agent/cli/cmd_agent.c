/* cmd_agent.c — `appdeploy agent`: serve's dashboard and periodic sync inside the cluster, with the configuration from git or the bundle, the Lease, and the agent's own set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentdir.h"
#include "agentset.h"
#include "cmd_common.h"
#include "commands.h"
#include "configsource.h"
#include "kubeconfig.h"
#include "lease.h"
#include "log.h"
#include "pipeline.h"
#include "serve.h"
#include "sha256.h"
#include "yamlval.h"


struct agent_flags {
	const char *agent_ns, *set_name, *git, *git_ref, *git_path, *git_credentials, *bundle, *images;
};

struct agent {
	struct configsource *cs;
	struct lease_elector *lease;
	const struct agent_flags *fl;
	const struct pipeline_opts *opts; /* the set's (its images are the agent set's too) */
	char applied[65];                 /* digest of the agent set's render last applied ("" none) */
	int said_unmanaged;               /* the missing ConfigMap was logged */
};

/* Takes the agent's own flags out of argv; the rest go to cmd_opts_parse. Returns 0, or 2 after a usage message. */
static int take_agent_flags(int *argc, char **argv, struct agent_flags *f)
{
	static const char *const names[] = {"--agent-namespace", "--set-name",        "--git",    "--git-ref",
					    "--git-path",        "--git-credentials", "--bundle", "--images"};
	const char **slot[] = {&f->agent_ns, &f->set_name,        &f->git,    &f->git_ref,
			       &f->git_path, &f->git_credentials, &f->bundle, &f->images};
	const char *vals[8] = {NULL};
	if (cmd_take_valued(argc, argv, names, 8, vals))
		return 2;
	for (int i = 0; i < 8; i++)
		if (vals[i])
			*slot[i] = vals[i];
	return 0;
}

/* ------------------------------------------------------------------ the workers' hooks */

static int hook_refresh(void *arg, struct kube *k, const struct diag *d)
{
	struct agent *a = arg;
	char what[512];
	struct sm_error err;
	int rc = configsource_refresh(a->cs, k, what, sizeof what, &err);
	if (rc < 0) {
		/* a render-kind message: the page keeps it as the failure, the log says it once */
		diag_say(d, DIAG_RENDER, "%s; the last good configuration stays applied", err.msg);
		return -1;
	}
	if (rc > 0)
		diag_say(d, DIAG_PROGRESS, "configuration: %s", what);
	return 0;
}

static int hook_leading(void *arg, char *holder, size_t holderlen)
{
	struct agent *a = arg;
	if (lease_leading(a->lease))
		return 1;
	lease_holder(a->lease, holder, holderlen);
	return 0;
}

/* Renders the agent's own set (agentset.h): ConfigMap NS2/appdeploy-agent's variables, .Images from the set's
 * image list. Returns 1 with *objs, *vars and digest, 0 when the ConfigMap is absent (installed by hand: the
 * set is not managed), -1 after an error through d. */
static int render_self(struct agent *a, struct kube *k, const struct diag *d, json_t **objs, json_t **vars,
		       char digest[65])
{
	struct kube_req r = {.method = KUBE_GET};
	if (asprintf(&r.path, "/api/v1/namespaces/%s/configmaps/%s", a->fl->agent_ns, AGENTSET_VARS_CONFIGMAP) < 0)
		abort();
	kube_do(k, &r, 1);
	if (r.status == 404) {
		if (!a->said_unmanaged)
			log_warn(
				"configmap %s/%s not found: the agent does not manage its own set (appdeploy up writes it)",
				a->fl->agent_ns, AGENTSET_VARS_CONFIGMAP);
		a->said_unmanaged = 1;
		kube_req_clear(&r);
		return 0;
	}
	a->said_unmanaged = 0;
	if (r.status / 100 != 2) {
		diag_error(d, "configmap %s/%s (the agent's variables): %s", a->fl->agent_ns, AGENTSET_VARS_CONFIGMAP,
			   r.err);
		kube_req_clear(&r);
		return -1;
	}
	const char *text =
		json_string_value(json_object_get(json_object_get(r.response, "data"), AGENTSET_VARS_KEY));
	char name[300];
	snprintf(name, sizeof name, "configmap %s/%s", a->fl->agent_ns, AGENTSET_VARS_CONFIGMAP);
	struct sm_error err = {0};
	json_t *docs = yv_load(text ? text : "", text ? strlen(text) : 0, name, 1, NULL, &err);
	kube_req_clear(&r);
	json_t *images = NULL;
	if (docs && a->opts->images && !(images = yv_load_file(a->opts->images, 1, NULL, &err))) {
		json_decref(docs);
		docs = NULL;
	}
	char dir[4096];
	int rc = -1;
	if (!docs)
		diag_error(d, "%s", err.msg);
	else if (!json_is_object(json_array_get(docs, 0)))
		diag_error(d, "%s: %s is not a mapping of the agent's variables", name, AGENTSET_VARS_KEY);
	else if (agent_manifest_dir(dir, sizeof dir))
		diag_error(d, "the agent's manifests are not installed (looked at %s)", dir);
	else if (agentset_render(dir, json_array_get(docs, 0), json_array_get(images, 0), objs, &err))
		diag_error(d, "%s", err.msg);
	else {
		*vars = json_incref(json_array_get(docs, 0));
		char *dump = json_dumps(*objs, JSON_COMPACT | JSON_SORT_KEYS);
		sha256_hex(dump, strlen(dump), digest);
		free(dump);
		rc = 1;
	}
	json_decref(docs);
	json_decref(images);
	if (rc < 0)
		diag_say(d, DIAG_PROGRESS, "the agent's own set did not render; it stays as applied");
	return rc;
}

static int hook_self(void *arg, struct kube *k, int apply, const struct diag *d)
{
	struct agent *a = arg;
	json_t *objs = NULL, *vars = NULL;
	char digest[65];
	int rc = render_self(a, k, d, &objs, &vars, digest);
	if (rc <= 0)
		return rc;
	int changed = strcmp(digest, a->applied) != 0;
	if (!apply || !changed) {
		json_decref(objs);
		json_decref(vars);
		return apply ? 0 : changed;
	}
	char dir[4096];
	struct sm_error err = {0};
	diag_say(d, DIAG_PROGRESS, "the agent's own set (%s in namespace %s):", AGENTSET_NAME, a->fl->agent_ns);
	/* self_only: the grants in the target namespace are up's to widen, never the agent's own */
	rc = agent_manifest_dir(dir, sizeof dir) ? -1 : agentset_apply(k, objs, vars, dir, 0, 1, d, &err);
	if (rc)
		diag_error(d, "%s", *err.msg ? err.msg : "the agent's manifests are not installed");
	else {
		memcpy(a->applied, digest, sizeof a->applied);
		diag_say(d, DIAG_PROGRESS, "applied to namespace %s", a->fl->agent_ns);
	}
	json_decref(objs);
	json_decref(vars);
	return rc ? -1 : 0;
}

static json_t *page_lease(void *arg)
{
	struct agent *a = arg;
	char holder[256];
	lease_holder(a->lease, holder, sizeof holder);
	return json_pack("{s:s, s:s, s:b}", "holder", holder, "self", lease_identity(a->lease), "leading",
			 lease_leading(a->lease));
}

/* ------------------------------------------------------------------ the command */

int cmd_agent(int argc, char **argv)
{
	struct serve_flags sf = {.listen = "0.0.0.0:8080", .interval = 60, .poll = 1};
	struct agent_flags af = {.agent_ns = AGENTSET_DEFAULT_NS};
	int rc = serve_take_flags(&argc, argv, &sf);
	if (rc || (rc = take_agent_flags(&argc, argv, &af)))
		return rc;
	if (sf.token_file) {
		fprintf(stderr,
			"appdeploy agent: --token-file is serve's; the agent is reached through the API server's service proxy\n");
		return 2;
	}
	if (!af.set_name || !*af.set_name) {
		fprintf(stderr, "appdeploy agent: --set-name NAME is needed (the set's name, as apply's --set)\n");
		return 2;
	}
	const char *home = getenv("HOME");
	char *workdir = strdup(home && *home && strcmp(home, "/") ? home : "/var/lib/appdeploy");
	struct configsource_opts co = {.git_url = af.git,
				       .git_ref = af.git_ref,
				       .git_path = af.git_path,
				       .git_credentials = af.git_credentials,
				       .bundle = af.bundle,
				       .bundle_ns = af.agent_ns,
				       .workdir = workdir};
	struct sm_error err;
	struct configsource *cs = configsource_new(&co, &err);
	if (!cs) {
		fprintf(stderr, "appdeploy agent: %s\n", err.msg);
		free(workdir);
		return 2;
	}
	/* cmd_opts_parse sees the set's folder as DIR, and the render/apply flags given */
	char **av = calloc((size_t)argc + 2, sizeof *av);
	av[0] = argv[0];
	av[1] = (char *)configsource_dir(cs);
	for (int i = 1; i < argc; i++)
		av[i + 1] = argv[i];
	struct cmd_opts c;
	if ((rc = cmd_opts_parse(argc + 1, av, 1, &c))) {
		free(av);
		configsource_free(cs);
		free(workdir);
		return rc;
	}
	char *images = NULL;
	rc = 2;
	if (!c.pl.ns)
		fprintf(stderr, "appdeploy agent: -n NS is needed (the namespace the set is applied in)\n");
	else if (c.pl.dry_run || c.pl.wait)
		fprintf(stderr, "appdeploy agent: --dry-run and --wait are apply's flags, not the agent's\n");
	else
		rc = 0;
	if (!rc && af.images && *af.images) {
		if (strstr(af.images, "://") || af.images[0] == '/')
			images = strdup(af.images);
		else if (asprintf(&images, "%s/%s", configsource_dir(cs), af.images) < 0)
			abort();
	}
	c.pl.images = images;
	c.pl.set_name = af.set_name;
	/* the agent is the set's source by design (up installed it for this set): a set last applied from
	 * the developer's folder (up, apply) or from another copy of the configuration is taken over */
	c.pl.take_over = 1;
	struct kube_config kc = {0};
	int have_kc = 0;
	if (!rc && kubeconfig_load(c.pl.kubeconfig, c.pl.context, &kc, &err)) {
		fprintf(stderr, "appdeploy agent: %s\n", err.msg);
		rc = 1;
	} else if (!rc)
		have_kc = 1;
	char identity[256];
	const char *pod = getenv("POD_NAME");
	if (pod && *pod)
		snprintf(identity, sizeof identity, "%s", pod);
	else if (gethostname(identity, sizeof identity))
		snprintf(identity, sizeof identity, "appdeploy-%ld", (long)getpid());
	identity[sizeof identity - 1] = 0;
	struct agent a = {.cs = cs, .fl = &af, .opts = &c.pl};
	if (!rc && !(a.lease = lease_start(&kc, af.agent_ns, AGENTSET_LEASE, identity, &err))) {
		fprintf(stderr, "appdeploy agent: %s\n", err.msg);
		rc = 1;
	}
	if (!rc) {
		log_info("agent %s: set %s into namespace %s from %s %s (agent namespace %s)", identity, af.set_name,
			 c.pl.ns, af.git ? "git" : "bundle", af.git ? af.git : af.bundle, af.agent_ns);
		struct workers_agent hooks = {
			.refresh = hook_refresh, .leading = hook_leading, .self = hook_self, .arg = &a};
		struct serve_run_cfg sr = {.flags = &sf,
					   .kc = &kc,
					   .opts = &c.pl,
					   .ns = c.pl.ns,
					   .what = af.git ? af.git : af.bundle,
					   .agent = &hooks,
					   .lease = page_lease,
					   .lease_arg = &a};
		rc = serve_run(&sr);
	}
	lease_stop(a.lease); /* after the syncs ended: the next agent takes over at once */
	if (have_kc)
		kubeconfig_free(&kc);
	free(images);
	cmd_opts_free(&c);
	free(av);
	configsource_free(cs);
	free(workdir);
	return rc;
}
