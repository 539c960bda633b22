/* configsource.h — where the in-cluster agent's set comes from: a git remote (cloned once, fetched every interval) or the bundle ConfigMap `up` wrote. */
#ifndef SM_CONFIGSOURCE_H
#define SM_CONFIGSOURCE_H

#include <stddef.h>

#include "errbuf.h"
#include "kube.h"

struct configsource_opts {
	/* git: the remote, the ref (branch, tag or commit), DIR's path inside the repository ("" or NULL: the
	 * root), a git-credential-store file (NULL: none; used with no other credential helper) */
	const char *git_url, *git_ref, *git_path, *git_credentials;
	/* bundle: ConfigMap bundle_ns/bundle (binaryData set.tar.gz, data digest) */
	const char *bundle, *bundle_ns;
	const char *workdir; /* where the clone or the extracted bundles live (created when missing) */
};

struct configsource;

/* Checks the options (exactly one of git_url and bundle; a git_path inside the repository). Copies
 * what it needs. Returns NULL with err filled. */
struct configsource *configsource_new(const struct configsource_opts *o, struct sm_error *err);
void configsource_free(struct configsource *cs);

/* The set's folder: a path that stays the same while its content follows the source. */
const char *configsource_dir(const struct configsource *cs);

/* Fetches the configuration: git clones (the first time) or fetches REF and checks it out; bundle reads
 * the ConfigMap (with k) and, when its digest changed, extracts set.tar.gz into a fresh folder and
 * switches to it only when that worked. Returns 1 when the content changed (what: "commit 1a2b3c4d5e6f",
 * "bundle digest 0123abcd..."), 0 when not, -1 with err filled (the last good content stays). GIT_TERMINAL_PROMPT=0 is
 * set for git; it never asks. */
int configsource_refresh(struct configsource *cs, struct kube *k, char *what, size_t whatlen, struct sm_error *err);

#endif
