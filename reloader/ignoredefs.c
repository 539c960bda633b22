/* ignoredefs.c — what every watcher ignores: editor/OS temp files, VCS folders, git's repository-wide exclude files. */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "glob.h"
#include "ignoredefs.h"
#include "slurp.h"

/* gitignore syntax; a `!name` in watch.exclude re-includes one, watch.default_excludes: false drops them all. */
const char *const ignore_default_patterns[] = {
	/* version control */
	".git/", ".hg/", ".svn/", ".bzr/", "_darcs/", ".jj/", "CVS/",
	/* vim: swap files and the 4913 probe of 'backupcopy=auto' */
	".*.sw[a-z]", ".*.sv[a-z]", "*.swp", "*.swo", "4913",
	/* backups (vim, emacs, nano, patch), emacs auto-save and lock links */
	"*~", "\\#*#", ".#*", "*.orig", "*.rej",
	/* JetBrains safe write, Kate, gedit, LibreOffice */
	"*___jb_tmp___", "*___jb_old___", ".*.kate-swp", ".goutputstream-*", ".~lock.*#",
	/* operating systems */
	".DS_Store", "._*", "Thumbs.db", "desktop.ini",
	/* IDE state and bytecode a running service writes */
	".idea/", "__pycache__/", "*.pyc",
	NULL,
};

/* snprintf that reports truncation: 0, or -1 (out then holds a cut path nobody should use). */
static int pfmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int pfmt(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	memmove(s, s + strspn(s, " \t"), strlen(s + strspn(s, " \t")) + 1);
}

/* "~/x" -> "$HOME/x". */
static void expand_home(char *out, size_t cap, const char *path)
{
	const char *home = getenv("HOME");

	if (path[0] == '~' && path[1] == '/' && home)
		pfmt(out, cap, "%s%s", home, path + 1);
	else
		pfmt(out, cap, "%s", path);
}

void ignore_git_config_excludes(const char *text, size_t len, char *out, size_t cap)
{
	char *copy = strndup(text, len), *line, *save = NULL;
	int in_core = 0;

	if (!copy)
		return;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq, *val;

		trim(line);
		if (line[0] == '[') {
			/* "[core]" or "[core]  # comment"; subsections ("[core \"x\"]") are not core */
			in_core = strncasecmp(line, "[core]", 6) == 0;
			continue;
		}
		if (!in_core || line[0] == '#' || line[0] == ';' || !(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		trim(line);
		if (strcasecmp(line, "excludesfile") != 0)
			continue;
		val = eq + 1;
		trim(val);
		if (val[0] == '"' && strlen(val) >= 2 && val[strlen(val) - 1] == '"') {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		expand_home(out, cap, val);
	}
	free(copy);
}

/* core.excludesFile from one git config file into out (left as it is when the file does not set it). */
static void config_excludes_file(const char *file, char *out, size_t cap)
{
	size_t len;
	char *text = slurp(file, 16u << 20, &len);

	if (!text)
		return;
	ignore_git_config_excludes(text, len, out, cap);
	free(text);
}

/* Finds the repository holding root: its top directory and its (common) git dir. 0 when found. */
static int find_repo(const char *root, char *top, size_t topcap, char *gitdir, size_t gdcap)
{
	char dir[PATH_MAX], probe[PATH_MAX + 16];
	struct stat st;

	snprintf(dir, sizeof dir, "%s", root);
	for (;;) {
		if (pfmt(probe, sizeof probe, "%s/.git", strcmp(dir, "/") ? dir : "") != 0)
			return -1;
		if (stat(probe, &st) == 0) {
			pfmt(top, topcap, "%s", dir);
			if (S_ISDIR(st.st_mode)) {
				pfmt(gitdir, gdcap, "%s", probe);
			} else {
				/* a worktree or submodule: "gitdir: PATH", and the shared parts in its commondir */
				size_t len;
				char *text = slurp(probe, 16u << 20, &len), cd[PATH_MAX + 32], *common;

				if (!text || strncmp(text, "gitdir:", 7) != 0) {
					free(text);
					return -1;
				}
				trim(text + 7);
				if (text[7] == '/')
					pfmt(gitdir, gdcap, "%s", text + 7);
				else
					pfmt(gitdir, gdcap, "%s/%s", dir, text + 7);
				free(text);
				pfmt(cd, sizeof cd, "%s/commondir", gitdir);
				if ((common = slurp(cd, 16u << 20, &len))) {
					char joined[PATH_MAX * 2 + 2];

					trim(common);
					if (common[0] == '/')
						pfmt(joined, sizeof joined, "%s", common);
					else
						pfmt(joined, sizeof joined, "%s/%s", gitdir, common);
					pfmt(gitdir, gdcap, "%s", joined);
					free(common);
				}
			}
			return 0;
		}
		char *slash = strrchr(dir, '/');

		if (!slash || strcmp(dir, "/") == 0)
			return -1;
		if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
}

static int add_file_rules(struct patlist *pl, const char *path)
{
	size_t len;
	char *text = slurp(path, 16u << 20, &len);
	int rc;

	if (!text)
		return 0;
	rc = patlist_parse(pl, text, len);
	free(text);
	return rc;
}

/* .git/info/exclude and the global excludes file, based at the repository's top (or root without one). */
static int load_git_excludes(struct ignore *ig)
{
	char top[PATH_MAX], gitdir[PATH_MAX], file[PATH_MAX + 32], excl[PATH_MAX] = "";
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME"), *rel = "";
	int in_repo = find_repo(ig->root, top, sizeof top, gitdir, sizeof gitdir) == 0;

	/* git's order: XDG config, ~/.gitconfig, the repository's config (the later one wins) */
	if (xdg && *xdg)
		pfmt(file, sizeof file, "%s/git/config", xdg);
	else
		pfmt(file, sizeof file, "%s/.config/git/config", home ? home : "");
	config_excludes_file(file, excl, sizeof excl);
	if (home) {
		pfmt(file, sizeof file, "%s/.gitconfig", home);
		config_excludes_file(file, excl, sizeof excl);
	}
	if (in_repo) {
		pfmt(file, sizeof file, "%s/config", gitdir);
		config_excludes_file(file, excl, sizeof excl);
	}
	if (!*excl) {
		if (xdg && *xdg)
			pfmt(excl, sizeof excl, "%s/git/ignore", xdg);
		else if (home)
			pfmt(excl, sizeof excl, "%s/.config/git/ignore", home);
	}
	/* lowest first: within one list the last matching line wins */
	if (*excl && add_file_rules(&ig->gitexcl, excl) != 0)
		return -1;
	if (in_repo) {
		pfmt(file, sizeof file, "%s/info/exclude", gitdir);
		if (add_file_rules(&ig->gitexcl, file) != 0)
			return -1;
		rel = path_rel(top, ig->root);
		if (!rel)
			rel = "";
	}
	if (asprintf(&ig->git_prefix, "%s%s", rel, *rel ? "/" : "") < 0) {
		ig->git_prefix = NULL;
		return -1;
	}
	return 0;
}

int ignore_defaults(struct ignore *ig, const struct config *cfg)
{
	if (cfg->watch.default_excludes) {
		struct patlist merged = {0};
		size_t ndef = 0;

		while (ignore_default_patterns[ndef])
			ndef++;
		merged.cap = ndef + ig->exclude.n;
		if (!(merged.v = calloc(merged.cap, sizeof *merged.v)))
			return -1;
		for (size_t i = 0; i < ndef; i++) {
			if (patlist_add(&merged, ignore_default_patterns[i]) != 0) {
				patlist_free(&merged);
				return -1;
			}
		}
		/* the config's excludes come after the defaults, so their `!name` lines win */
		for (size_t i = 0; i < ig->exclude.n; i++)
			merged.v[merged.n++] = ig->exclude.v[i];
		free(ig->exclude.v);
		ig->exclude = merged;
		ig->no_hidden = 1;
	}
	for (size_t i = 0; cfg->watch.data && cfg->watch.data[i]; i++)
		if (patlist_add(&ig->exclude, cfg->watch.data[i]) != 0)
			return -1;
	if (cfg->watch.gitignore && load_git_excludes(ig) != 0)
		return -1;
	return 0;
}
