/* gitsrc.h — where the in-cluster agent gets DIR from when it is in git: the remote's URL, the ref, the path inside the repository, and whether the remote answers. */
#ifndef SM_GITSRC_H
#define SM_GITSRC_H

#include <stddef.h>

#include "errbuf.h"

struct gitsrc {
	int is_git;   /* 1: the agent clones url; 0: up bundles DIR (note says why) */
	char *remote; /* the remote's name ("origin") */
	char *url;    /* its URL, as git has it */
	char *ref;    /* the upstream branch (else the current one), or the HEAD commit when detached */
	char *path;   /* DIR inside the repository, "" at its top */
	char *head;   /* the HEAD commit */
	char note[512];
};

/* 1 when s is a URL a cluster could reach: scheme://... or scp-like user@host:path (not a local path). */
int gitsrc_is_url(const char *s);

/*
 * Looks at dir with git: its work tree, the current branch, that branch's remote (else "origin") and the
 * remote's URL. No git, not a work tree, no remote or a remote that is a local path: returns 0 with
 * is_git 0 and note saying which. A URL holding a password is an error (it would reach the agent's
 * Deployment): -1 with err saying to use --git-credentials.
 */
int gitsrc_detect(const char *dir, struct gitsrc *g, struct sm_error *err);

/*
 * `git ls-remote URL` as the agent would run it: no terminal prompt, no credential helper but
 * cred_file's (git-credential-store format; may be NULL). A remote that asks for credentials without
 * cred_file, refuses them, is unreachable or lacks the ref is an error saying what to do. A ref whose
 * remote commit is not HEAD adds a line to warn (the agent deploys what the remote has).
 * Returns 0 or -1 with err filled.
 */
int gitsrc_check(const struct gitsrc *g, const char *cred_file, char *warn, size_t warn_cap, struct sm_error *err);

void gitsrc_free(struct gitsrc *g);

#endif
