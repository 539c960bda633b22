/* ignoredefs.h — what every watcher of reloader ignores on top of a tree's own rules (ignoredefs.c). */
#ifndef RL_IGNOREDEFS_H
#define RL_IGNOREDEFS_H

#include <stddef.h>

#include "config.h"
#include "glob.h"

/*
 * What every watcher needs on top of ig's own lists (ignore_defaults): unless
 * cfg->watch.default_excludes is false, the editor/OS temp files and VCS folders of
 * IGNORE_DEFAULTS (placed before the config excludes, so a `!name` there re-includes one) and
 * the rule that include globs do not match hidden files by a wildcard; cfg->watch.data; and, with
 * watch.gitignore, .git/info/exclude and the global excludes file (core.excludesFile, default
 * $XDG_CONFIG_HOME/git/ignore) of the repository holding ig->root. Returns 0, -1 on ENOMEM.
 */
int ignore_defaults(struct ignore *ig, const struct config *cfg);
/* Reads core.excludesFile from the text of a git config file into out ("~/" expanded); out is left
 * as it is when the text does not set it. Only [core] lines of the form `key = value` count. */
void ignore_git_config_excludes(const char *text, size_t len, char *out, size_t cap);
/* The default excludes, gitignore syntax (for documentation and tests). */
extern const char *const ignore_default_patterns[];

#endif
