/* gitsrc.c — DIR's git remote, ref and path for the in-cluster agent, and the ls-remote check (gitsrc.h); runs git itself. */
#include "gitsrc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runcmd.h"

void gitsrc_free(struct gitsrc *g)
{
	free(g->remote);
	free(g->url);
	free(g->ref);
	free(g->path);
	free(g->head);
	memset(g, 0, sizeof *g);
}

int gitsrc_is_url(const char *s)
{
	const char *p = strstr(s, "://");
	if (p && p > s) {
		for (const char *q = s; q < p; q++)
			if (!isalnum((unsigned char)*q) && !strchr("+-.", *q))
				return 0;
		return 1;
	}
	/* scp-like: user@host:path, with no '/' before the ':' (git's own rule for telling it from a path) */
	const char *colon = strchr(s, ':'), *at = strchr(s, '@'), *slash = strchr(s, '/');
	return colon && at && at < colon && at > s && colon > at + 1 && (!slash || slash > colon);
}

/* git -C dir ARGS...: stdout's first line into *out (malloc'd). Returns git's exit status (127: no git). */
static int git_line(const char *dir, char **out, const char *a1, const char *a2, const char *a3, const char *a4)
{
	const char *argv[] = {"git", "-C", dir, a1, a2, a3, a4, NULL};
	struct runcmd r;
	*out = NULL;
	if (runcmd(argv, NULL, 64 * 1024, &r)) {
		runcmd_free(&r);
		return 127;
	}
	int st = r.status;
	if (!st) {
		r.out[strcspn(r.out, "\r\n")] = 0;
		*out = strdup(r.out);
	}
	runcmd_free(&r);
	return st;
}

int gitsrc_detect(const char *dir, struct gitsrc *g, struct sm_error *err)
{
	memset(g, 0, sizeof *g);
	char *top = NULL, *branch = NULL, *s = NULL;
	int st = git_line(dir, &top, "rev-parse", "--show-toplevel", NULL, NULL);
	if (st == 127) {
		snprintf(g->note, sizeof g->note, "git is not installed");
		return 0;
	}
	if (st || !top) {
		snprintf(g->note, sizeof g->note, "%s is not in a git work tree", dir);
		return 0;
	}
	free(top);
	if (git_line(dir, &g->head, "rev-parse", "-q", "--verify", "HEAD^{commit}")) {
		snprintf(g->note, sizeof g->note, "%s's repository has no commit yet", dir);
		return 0;
	}
	if (git_line(dir, &g->path, "rev-parse", "--show-prefix", NULL, NULL))
		g->path = strdup("");
	size_t pl = strlen(g->path);
	if (pl && g->path[pl - 1] == '/')
		g->path[pl - 1] = 0;
	char key[512];
	if (!git_line(dir, &branch, "symbolic-ref", "-q", "--short", "HEAD") && branch && *branch) {
		snprintf(key, sizeof key, "branch.%s.remote", branch);
		if (git_line(dir, &g->remote, "config", "--get", key, NULL) || !g->remote || !strcmp(g->remote, ".")) {
			free(g->remote);
			g->remote = NULL;
		}
		/* the branch the upstream tracks, which may be named differently on the remote */
		snprintf(key, sizeof key, "branch.%s.merge", branch);
		if (g->remote && !git_line(dir, &s, "config", "--get", key, NULL) && s &&
		    !strncmp(s, "refs/heads/", 11))
			g->ref = strdup(s + 11);
		free(s);
		if (!g->ref)
			g->ref = strdup(branch);
	} else
		g->ref = strdup(g->head); /* detached: the commit itself */
	free(branch);
	if (!g->remote)
		g->remote = strdup("origin");
	if (git_line(dir, &g->url, "remote", "get-url", g->remote, NULL) || !g->url || !*g->url) {
		snprintf(g->note, sizeof g->note, "%s's repository has no remote \"%s\"", dir, g->remote);
		return 0;
	}
	if (!gitsrc_is_url(g->url)) {
		snprintf(g->note, sizeof g->note,
			 "remote \"%s\" of %s is a local path (%s), which the cluster cannot reach", g->remote, dir,
			 g->url);
		return 0;
	}
	const char *p = strstr(g->url, "://");
	if (p) {
		const char *auth = p + 3, *end = auth + strcspn(auth, "/@"),
			   *colon = memchr(auth, ':', (size_t)(end - auth));
		if (*end == '@' && colon) {
			sm_error_set(err, NULL, 0, 0,
				     "remote \"%s\" of %s has a password in its URL, which would end up in the agent's "
				     "Deployment: remove it (git remote set-url %s URL) and pass the credentials with "
				     "--git-credentials FILE instead",
				     g->remote, dir, g->remote);
			return -1;
		}
	}
	g->is_git = 1;
	return 0;
}

int gitsrc_check(const struct gitsrc *g, const char *cred_file, char *warn, size_t warn_cap, struct sm_error *err)
{
	char helper[4200] = "credential.helper=";
	char *abs = NULL;
	warn[0] = 0;
	if (cred_file) {
		abs = realpath(cred_file, NULL);
		if (!abs) {
			sm_error_set(err, NULL, 0, 0, "--git-credentials %s: cannot read it", cred_file);
			return -1;
		}
		snprintf(helper, sizeof helper, "credential.helper=store --file=%s", abs);
	}
	/* no prompt, no askpass, no helper of the user's: what the agent will have (the empty value resets
	 * the list of helpers, the second -c adds the file's) */
	const char *argv[] = {
		"git",  "-c", "credential.helper=", "-c", helper, "-c", "core.askPass=", "ls-remote", "--",
		g->url, NULL};
	const char *env[] = {"GIT_TERMINAL_PROMPT=0",
			     "GIT_ASKPASS=",
			     "SSH_ASKPASS=",
			     "GCM_INTERACTIVE=never",
			     "GIT_SSH_COMMAND=ssh -o BatchMode=yes",
			     NULL};
	struct runcmd r;
	int rc = runcmd(argv, env, 16u << 20, &r);
	free(abs);
	if (rc || r.status) {
		char why[600];
		runcmd_reason(r.err, why, sizeof why);
		if (!cred_file &&
		    (strstr(r.err, "could not read Username") || strstr(r.err, "could not read Password") ||
		     strstr(r.err, "terminal prompts disabled") || strstr(r.err, "Authentication failed")))
			sm_error_set(
				err, NULL, 0, 0,
				"remote \"%s\" (%s) asks for credentials, and the agent in the cluster will need them too: "
				"pass --git-credentials FILE (git-credential-store format, one https://USER:TOKEN@HOST "
				"line; kept in a Secret, never printed). Nothing was written",
				g->remote, g->url);
		else if (cred_file && (strstr(r.err, "Authentication failed") || strstr(r.err, "could not read") ||
				       strstr(r.err, "terminal prompts disabled")))
			sm_error_set(
				err, NULL, 0, 0,
				"remote \"%s\" (%s) refused the credentials in %s (%s): check the USER:TOKEN line for "
				"that host. Nothing was written",
				g->remote, g->url, cred_file, why);
		else
			sm_error_set(
				err, NULL, 0, 0,
				"remote \"%s\" (%s) did not answer git ls-remote: %s. The agent in the cluster clones it: "
				"make it reachable, or remove the remote to have up bundle DIR instead. Nothing was written",
				g->remote, g->url, *why ? why : "git failed");
		runcmd_free(&r);
		return -1;
	}
	/* does the remote have the ref, and at which commit? */
	char want_head[512], want_tag[512];
	snprintf(want_head, sizeof want_head, "refs/heads/%s", g->ref);
	snprintf(want_tag, sizeof want_tag, "refs/tags/%s", g->ref);
	int detached = !strcmp(g->ref, g->head), found = detached;
	char remote_sha[64] = "";
	for (char *line = r.out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		char *tab = strchr(line, '\t');
		if (tab) {
			*tab = 0;
			if (!strcmp(tab + 1, want_head) || !strcmp(tab + 1, want_tag)) {
				found = 1;
				snprintf(remote_sha, sizeof remote_sha, "%s", line);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	runcmd_free(&r);
	if (!found) {
		sm_error_set(
			err, NULL, 0, 0,
			"remote \"%s\" (%s) has no branch or tag \"%s\", which the agent would check out: push it first "
			"(git push -u %s %s). Nothing was written",
			g->remote, g->url, g->ref, g->remote, g->ref);
		return -1;
	}
	if (*remote_sha && strcmp(remote_sha, g->head))
		snprintf(
			warn, warn_cap,
			"%s on remote \"%s\" is at %.12s, not at your HEAD %.12s: the agent deploys what the remote has "
			"(git push to deploy your commits)",
			g->ref, g->remote, remote_sha, g->head);
	return 0;
}
