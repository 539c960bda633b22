/* configsource.c — the agent's configuration: git clone/fetch/checkout of a ref, or the bundle ConfigMap extracted with tar into a fresh folder. */
#include "configsource.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "runcmd.h"
#include "sha256.h"

#define MAX_OUTPUT 4096

struct configsource {
	char *git_url, *git_ref, *git_credentials, *bundle, *bundle_ns;
	char *repo;      /* git: the clone */
	char *dir;       /* the set's folder */
	char *bundles;   /* bundle: where bundles are extracted (the set's folder is bundles/set) */
	char commit[64]; /* git: the commit checked out ("" none yet) */
	char digest[65]; /* bundle: the digest extracted ("" none yet) */
};

static int mkdirs(const char *path)
{
	char *p = strdup(path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0700);
			*s = '/';
		}
	int rc = mkdir(p, 0700) && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void rm_tree(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* Runs argv (no shell), its stdout into out (when given). Returns 0 when it exited 0, else -1 with err
 * filled ("WHAT: the line of stderr that says why"). */
static int run(char *const argv[], const char *what, char *out, size_t outlen, struct sm_error *err)
{
	struct runcmd r;
	char why[600];

	if (runcmd((const char *const *)argv, NULL, MAX_OUTPUT, &r)) {
		sm_error_set(err, NULL, 0, 0, "%s: %s (install it)", what, r.err ? r.err : "cannot run it");
		runcmd_free(&r);
		return -1;
	}
	if (out)
		snprintf(out, outlen, "%s", r.out);
	int rc = r.status ? -1 : 0;
	if (rc) {
		runcmd_reason(r.err, why, sizeof why);
		sm_error_set(err, NULL, 0, 0, "%s: %s", what, *why ? why : "failed");
	}
	runcmd_free(&r);
	return rc;
}

/* git [-c credential.helper=... ] [-C repo] ARGS...: credentials only from the given file, never a prompt. */
static int git(struct configsource *cs, int in_repo, const char *what, char *out, size_t outlen, struct sm_error *err,
	       ...)
{
	char *argv[24], *helper = NULL;
	int n = 0;
	argv[n++] = "git";
	argv[n++] = "-c";
	argv[n++] = "credential.helper=";
	if (cs->git_credentials) {
		if (asprintf(&helper, "credential.helper=store --file=%s", cs->git_credentials) < 0)
			abort();
		argv[n++] = "-c";
		argv[n++] = helper;
	}
	if (in_repo) {
		argv[n++] = "-C";
		argv[n++] = cs->repo;
	}
	va_list ap;
	va_start(ap, err);
	for (char *a; n < 23 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	int rc = run(argv, what, out, outlen, err);
	free(helper);
	return rc;
}

struct configsource *configsource_new(const struct configsource_opts *o, struct sm_error *err)
{
	if (!o->git_url == !o->bundle) {
		sm_error_set(err, NULL, 0, 0,
			     "give the configuration as --git URL or --bundle CONFIGMAP (one of them)");
		return NULL;
	}
	const char *path = o->git_path ? o->git_path : "";
	while (*path == '/')
		path++;
	if (strstr(path, "..")) {
		sm_error_set(err, NULL, 0, 0, "--git-path %s: a path inside the repository, without \"..\"",
			     o->git_path);
		return NULL;
	}
	struct configsource *cs = calloc(1, sizeof *cs);
	setenv("GIT_TERMINAL_PROMPT", "0", 1); /* a remote that wants credentials fails at once, never asks */
	if (o->git_url) {
		cs->git_url = strdup(o->git_url);
		cs->git_ref = strdup(o->git_ref && *o->git_ref ? o->git_ref : "main");
		/* git runs in the clone (-C): a relative FILE must still name the same file */
		cs->git_credentials = o->git_credentials ? realpath(o->git_credentials, NULL) : NULL;
		if (o->git_credentials && !cs->git_credentials) {
			sm_error_set(err, NULL, 0, 0, "--git-credentials %s: %s", o->git_credentials, strerror(errno));
			configsource_free(cs);
			return NULL;
		}
		if (asprintf(&cs->repo, "%s/config", o->workdir) < 0 ||
		    asprintf(&cs->dir, "%s%s%s", cs->repo, *path ? "/" : "", path) < 0)
			abort();
	} else {
		cs->bundle = strdup(o->bundle);
		cs->bundle_ns = strdup(o->bundle_ns);
		if (asprintf(&cs->bundles, "%s/bundle", o->workdir) < 0 ||
		    asprintf(&cs->dir, "%s/set", cs->bundles) < 0)
			abort();
	}
	if (mkdirs(o->workdir)) {
		sm_error_set(err, NULL, 0, 0, "cannot create %s: %s (the agent needs a writable HOME)", o->workdir,
			     strerror(errno));
		configsource_free(cs);
		return NULL;
	}
	return cs;
}

void configsource_free(struct configsource *cs)
{
	if (!cs)
		return;
	free(cs->git_url);
	free(cs->git_ref);
	free(cs->git_credentials);
	free(cs->bundle);
	free(cs->bundle_ns);
	free(cs->repo);
	free(cs->dir);
	free(cs->bundles);
	free(cs);
}

const char *configsource_dir(const struct configsource *cs) { return cs->dir; }

static int git_refresh(struct configsource *cs, char *what, size_t whatlen, struct sm_error *err)
{
	char git_dir[4096], out[MAX_OUTPUT];
	snprintf(git_dir, sizeof git_dir, "%s/.git", cs->repo);
	struct stat st;
	if (stat(git_dir, &st)) {
		rm_tree(cs->repo); /* a clone that did not finish */
		if (git(cs, 0, "git clone", NULL, 0, err, "clone", "--quiet", "--no-checkout", "--", cs->git_url,
			cs->repo, (char *)NULL))
			return -1;
	}
	/* REF as a branch or tag first; a commit id is fetched with everything else */
	const char *rev = "FETCH_HEAD";
	struct sm_error ferr;
	if (git(cs, 1, "git fetch", NULL, 0, &ferr, "fetch", "--quiet", "--force", "origin", cs->git_ref,
		(char *)NULL)) {
		if (git(cs, 1, "git fetch", NULL, 0, err, "fetch", "--quiet", "--force", "--tags", "origin",
			(char *)NULL)) {
			*err = ferr;
			return -1;
		}
		rev = cs->git_ref;
	}
	char spec[512];
	snprintf(spec, sizeof spec, "%s^{commit}", rev);
	if (git(cs, 1, "git rev-parse", out, sizeof out, err, "rev-parse", "--verify", "--quiet", spec, (char *)NULL)) {
		sm_error_set(err, NULL, 0, 0, "%s: no branch, tag or commit %s there (check --git-ref)", cs->git_url,
			     cs->git_ref);
		return -1;
	}
	out[strcspn(out, "\r\n")] = 0;
	if (!strcmp(out, cs->commit))
		return 0;
	if (git(cs, 1, "git checkout", NULL, 0, err, "checkout", "--quiet", "--force", "--detach", out, (char *)NULL) ||
	    git(cs, 1, "git clean", NULL, 0, err, "clean", "-q", "-f", "-d", "-x", (char *)NULL))
		return -1;
	snprintf(cs->commit, sizeof cs->commit, "%.63s", out);
	snprintf(what, whatlen, "commit %.12s of %s %s", cs->commit, cs->git_url, cs->git_ref);
	return 1;
}

static int bundle_refresh(struct configsource *cs, struct kube *k, char *what, size_t whatlen, struct sm_error *err)
{
	struct kube_req r = {.method = KUBE_GET};
	if (asprintf(&r.path, "/api/v1/namespaces/%s/configmaps/%s", cs->bundle_ns, cs->bundle) < 0)
		abort();
	kube_do(k, &r, 1);
	if (r.status / 100 != 2) {
		sm_error_set(err, NULL, 0, 0, "configmap %s/%s (the bundle): %s%s", cs->bundle_ns, cs->bundle, r.err,
			     r.status == 404 ? "; run appdeploy up DIR to upload it" : "");
		kube_req_clear(&r);
		return -1;
	}
	const char *digest = json_string_value(json_object_get(json_object_get(r.response, "data"), "digest"));
	const char *b64 = json_string_value(json_object_get(json_object_get(r.response, "binaryData"), "set.tar.gz"));
	if (!digest || !b64) {
		sm_error_set(err, NULL, 0, 0,
			     "configmap %s/%s has no %s: run appdeploy up DIR to upload the bundle again",
			     cs->bundle_ns, cs->bundle, digest ? "binaryData set.tar.gz" : "data digest");
		kube_req_clear(&r);
		return -1;
	}
	if (!strcmp(digest, cs->digest)) {
		kube_req_clear(&r);
		return 0;
	}
	size_t n;
	unsigned char *tgz = base64_decode(b64, &n);
	char have[65] = "";
	if (tgz)
		sha256_hex(tgz, n, have);
	if (!tgz || strcmp(have, digest)) {
		sm_error_set(err, NULL, 0, 0,
			     "configmap %s/%s: set.tar.gz %s its digest %.64s: run appdeploy up DIR again",
			     cs->bundle_ns, cs->bundle, tgz ? "does not match" : "is not base64, so it cannot match",
			     digest);
		free(tgz);
		kube_req_clear(&r);
		return -1;
	}
	char dig[65];
	snprintf(dig, sizeof dig, "%s", digest);
	kube_req_clear(&r);
	mkdirs(cs->bundles);
	char *file, *tmp;
	if (asprintf(&file, "%s/set.tar.gz", cs->bundles) < 0 || asprintf(&tmp, "%s/set.new", cs->bundles) < 0)
		abort();
	int rc = -1;
	FILE *f = fopen(file, "wb");
	if (!f || fwrite(tgz, 1, n, f) != n || fclose(f)) {
		if (f)
			fclose(f);
		sm_error_set(err, NULL, 0, 0, "cannot write %s: %s", file, strerror(errno));
		goto out;
	}
	f = NULL;
	rm_tree(tmp);
	if (mkdir(tmp, 0700)) {
		sm_error_set(err, NULL, 0, 0, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	char *tar[] = {"tar", "-x", "-z", "-f", file, "-C", tmp, "--no-same-owner", "--no-same-permissions", NULL};
	if (run(tar, "extracting the bundle (tar)", NULL, 0, err)) {
		rm_tree(tmp);
		goto out;
	}
	/* the old folder aside, the new one in its place (both renames on one file system): the set's
	 * folder keeps its path, and holds either the old set or the new one, whole */
	char *old;
	if (asprintf(&old, "%s.old", cs->dir) < 0)
		abort();
	rm_tree(old);
	int had = rename(cs->dir, old) == 0;
	if (rename(tmp, cs->dir)) {
		sm_error_set(err, NULL, 0, 0, "cannot switch %s to the new bundle: %s", cs->dir, strerror(errno));
		if (had)
			rename(old, cs->dir);
		rm_tree(tmp);
		free(old);
		goto out;
	}
	rm_tree(old);
	free(old);
	snprintf(cs->digest, sizeof cs->digest, "%s", dig);
	snprintf(what, whatlen, "bundle %s/%s digest %.12s", cs->bundle_ns, cs->bundle, dig);
	rc = 1;
out:
	unlink(file);
	free(file);
	free(tmp);
	free(tgz);
	return rc;
}

int configsource_refresh(struct configsource *cs, struct kube *k, char *what, size_t whatlen, struct sm_error *err)
{
	what[0] = 0;
	return cs->git_url ? git_refresh(cs, what, whatlen, err) : bundle_refresh(cs, k, what, whatlen, err);
}
