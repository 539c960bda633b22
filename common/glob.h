/* glob.h — glob matching with `**`, gitignore rule lists, and the ignore/include decision for a tree. */
#ifndef RL_GLOB_H
#define RL_GLOB_H

#include <stddef.h>

#include "strmap.h"

/*
 * Matches str against a glob: `*` and `?` never match '/', `[a-z]`, `[!x]` / `[^x]` classes,
 * `\` escapes, and a double star forming a whole path segment (alone, leading, trailing or
 * between slashes) matches zero or more segments. A `**` that is not a whole segment acts like `*`.
 * Returns 1 on a match, 0 otherwise.
 */
int glob_match(const char *pat, const char *str);

enum { PAT_NEGATE = 1, PAT_DIRONLY = 2, PAT_ANCHORED = 4 };

struct pattern {
	char *glob;     /* without the `!`, leading `/` and trailing `/` */
	unsigned flags; /* PAT_* */
};

/* An ordered list of gitignore-style patterns; the last matching one decides. */
struct patlist {
	struct pattern *v;
	size_t n, cap;
};

/*
 * Adds one gitignore line: blank lines and `#` comments are skipped, `\#`/`\!` escape,
 * unescaped trailing blanks are trimmed, `!` negates, a trailing `/` matches directories only,
 * a `/` at the start or in the middle anchors the pattern to the list's base directory;
 * otherwise it matches the last path component at any depth. Returns 0, -1 on ENOMEM.
 */
int patlist_add(struct patlist *pl, const char *line);
/* Adds every line of text (a .gitignore file's contents). Returns 0, -1 on ENOMEM. */
int patlist_parse(struct patlist *pl, const char *text, size_t len);
/* relpath is relative to the list's base, '/'-separated, no leading '/'.
 * Returns 1 when the last matching pattern ignores it, -1 when it re-includes it (`!`), 0 when none matches. */
int patlist_match(const struct patlist *pl, const char *relpath, int is_dir);
void patlist_free(struct patlist *pl);

/*
 * Which paths of a tree count: the watcher's and the build cache's filter.
 * A path is pruned when it is `.git`, an exact extra path (the cache dir, build outputs), matches
 * the exclude patterns, or is ignored by the .gitignore files of its ancestors (deeper files win;
 * within a file the last matching line wins). Callers walk top-down and never descend into a
 * pruned directory, so only the path itself is decided here, not its ancestors.
 */
struct ignore {
	char *root;               /* absolute directory the relative paths start from */
	struct patlist exclude;   /* config excludes, based at root */
	struct patlist include;   /* files that count (empty: all) */
	struct strmap extra;      /* exact relative paths always pruned */
	int gitignore;            /* honour .gitignore files */
	struct strmap gi;         /* reldir -> struct patlist * of its .gitignore (loaded lazily) */
	unsigned long long *nogi; /* hashes of the reldirs known to hold no .gitignore (open addressing) */
	size_t nogi_n, nogi_cap;
	struct patlist gitexcl;   /* .git/info/exclude, then core.excludesFile: based at the repository root */
	char *git_prefix;         /* root relative to the repository root ("" or "sub/dir/"), NULL: no rules */
	int no_hidden;            /* include globs never match a hidden name (a leading '.') by a wildcard */
};

/* exclude/include may be NULL. Returns 0, -1 on ENOMEM. Free with ignore_free. */
int ignore_init(struct ignore *ig, const char *root, char **exclude, char **include, int gitignore);
/* Prunes rel (relative to root) exactly, e.g. the cache dir. Paths outside root are ignored. */
void ignore_add_extra(struct ignore *ig, const char *rel);
/* 1 when rel is pruned (see above), 0 when it is watched. */
int ignore_path(struct ignore *ig, const char *rel, int is_dir);
/* 1 when a file rel belongs to the include set. */
int ignore_included(const struct ignore *ig, const char *rel);
/* Drops the cached rules of reldir/.gitignore (it changed); they reload on the next query. */
void ignore_forget(struct ignore *ig, const char *reldir);
void ignore_free(struct ignore *ig);

/* Makes path relative to root: "" for root itself, NULL when outside. Returns a pointer into path. */
const char *path_rel(const char *root, const char *path);

#endif
