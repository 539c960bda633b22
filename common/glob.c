/* glob.c — glob matching with `**`, gitignore rule lists, and the ignore/include decision for a tree. */
#include "glob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* [...] at p (p points past '['); returns the char after ']' and sets *hit, or NULL if unterminated. */
static const char *match_class(const char *p, char c, int *hit)
{
	int neg = 0, ok = 0;
	const char *start;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	start = p;
	while (*p && (*p != ']' || p == start)) {
		char lo = *p, hi;

		if (lo == '\\' && p[1])
			lo = *++p;
		hi = lo;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			p += 2;
			if (*p == '\\' && p[1])
				p++;
			hi = *p;
		}
		if (c >= lo && c <= hi)
			ok = 1;
		p++;
	}
	if (*p != ']')
		return NULL;
	*hit = ok != neg && c != '/';
	return p + 1;
}

/* One `*` at a time is retried (the last one seen: it can stand for whatever an earlier one would have,
 * within its segment, since no `*` crosses a '/'), so a pattern of many stars is O(pattern x string), not
 * exponential; `**` + `/` recurses once per segment of s, a run of them counted as one. */
static int match_at(const char *pat, const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL; /* after the last `*`: where its match is retried */

	for (;;) {
		int ok = 1;

		switch (*p) {
		case '\0':
			ok = *s == '\0';
			if (ok)
				return 1;
			break;
		case '*':
			if (p[1] == '*' && (p == pat || p[-1] == '/') && (p[2] == '/' || p[2] == '\0')) {
				if (p[2] == '\0')
					return 1;
				while (p[2] == '/' && p[3] == '*' && p[4] == '*' && (p[5] == '/' || p[5] == '\0'))
					p += 3; /* `**` + `/` + `**`...: one is as many */
				if (p[2] == '\0')
					return 1;
				/* `**` + `/`: zero or more whole segments, then the rest. */
				for (const char *t = s;;) {
					if (match_at(pat, p + 3, t))
						return 1;
					t = strchr(t, '/');
					if (!t)
						return 0;
					t++;
				}
			}
			while (*p == '*')
				p++;
			if (*p == '\0')
				return strchr(s, '/') == NULL;
			star_p = p;
			star_s = s;
			continue;
		case '?':
			ok = *s != '\0' && *s != '/';
			break;
		case '[': {
			int hit = 0;
			const char *next = match_class(p + 1, *s, &hit);

			if (next) {
				ok = *s != '\0' && hit;
				if (ok) {
					p = next;
					s++;
					continue;
				}
				break;
			}
			ok = *s == '['; /* an unterminated class is a literal '[' */
			break;
		}
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			ok = *p == *s;
			break;
		}
		if (ok) {
			p++;
			s++;
			continue;
		}
		/* a mismatch: the last `*` takes one more character of its segment, or nothing matches */
		if (!star_p || *star_s == '\0' || *star_s == '/')
			return 0;
		p = star_p;
		s = ++star_s;
	}
}

int glob_match(const char *pat, const char *str) { return match_at(pat, pat, str); }

int patlist_add(struct patlist *pl, const char *line)
{
	size_t len = strlen(line);
	unsigned flags = 0;
	char *g;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	/* trailing blanks go unless escaped */
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t') && !(len >= 2 && line[len - 2] == '\\'))
		len--;
	if (len == 0 || line[0] == '#')
		return 0;
	if (line[0] == '!') {
		flags |= PAT_NEGATE;
		line++;
		len--;
	} else if (line[0] == '\\' && (line[1] == '#' || line[1] == '!')) {
		line++;
		len--;
	}
	if (len && line[len - 1] == '/') {
		flags |= PAT_DIRONLY;
		len--;
	}
	if (len && memchr(line, '/', len))
		flags |= PAT_ANCHORED;
	if (len && line[0] == '/') {
		line++;
		len--;
	}
	if (len == 0)
		return 0;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 8;
		struct pattern *v = realloc(pl->v, cap * sizeof *v);

		if (!v)
			return -1;
		pl->v = v;
		pl->cap = cap;
	}
	g = strndup(line, len);
	if (!g)
		return -1;
	pl->v[pl->n].glob = g;
	pl->v[pl->n].flags = flags;
	pl->n++;
	return 0;
}

int patlist_parse(struct patlist *pl, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
		char *line = strndup(text, n);
		int rc;

		if (!line)
			return -1;
		rc = patlist_add(pl, line);
		free(line);
		if (rc != 0)
			return -1;
		text += n + 1;
	}
	return 0;
}

int patlist_match(const struct patlist *pl, const char *relpath, int is_dir)
{
	const char *base = strrchr(relpath, '/');

	base = base ? base + 1 : relpath;
	for (size_t i = pl->n; i-- > 0;) {
		const struct pattern *p = &pl->v[i];

		if ((p->flags & PAT_DIRONLY) && !is_dir)
			continue;
		if (glob_match(p->glob, (p->flags & PAT_ANCHORED) ? relpath : base))
			return (p->flags & PAT_NEGATE) ? -1 : 1;
	}
	return 0;
}

void patlist_free(struct patlist *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->v[i].glob);
	free(pl->v);
	memset(pl, 0, sizeof *pl);
}

const char *path_rel(const char *root, const char *path)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strcmp(root, "/") == 0)
		return path[0] == '/' ? path + 1 : NULL;
	if (strncmp(root, path, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return path + n;
	if (path[n] != '/')
		return NULL;
	return path + n + 1;
}

int ignore_init(struct ignore *ig, const char *root, char **exclude, char **include, int gitignore)
{
	memset(ig, 0, sizeof *ig);
	ig->gitignore = gitignore;
	if (!(ig->root = strdup(root)))
		return -1;
	for (size_t i = 0; exclude && exclude[i]; i++)
		if (patlist_add(&ig->exclude, exclude[i]) != 0)
			return -1;
	for (size_t i = 0; include && include[i]; i++)
		if (patlist_add(&ig->include, include[i]) != 0)
			return -1;
	return 0;
}

void ignore_add_extra(struct ignore *ig, const char *rel)
{
	if (rel && *rel)
		strmap_put(&ig->extra, rel, (void *)1, NULL);
}

/* Directories without a .gitignore are most of a tree: they are remembered as 8-byte hashes, not
 * as map entries with their names. */
static unsigned long long dir_hash(const char *s)
{
	unsigned long long h = 1469598103934665603ull; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h ? h : 1;
}

static long nogi_find(const struct ignore *ig, unsigned long long h)
{
	if (!ig->nogi_cap)
		return -1;
	for (size_t i = (size_t)(h ^ (h >> 31)) & (ig->nogi_cap - 1);; i = (i + 1) & (ig->nogi_cap - 1)) {
		if (ig->nogi[i] == h)
			return (long)i;
		if (!ig->nogi[i])
			return -1;
	}
}

static void nogi_insert(unsigned long long *v, size_t cap, unsigned long long h)
{
	size_t i = (size_t)(h ^ (h >> 31)) & (cap - 1);

	while (v[i])
		i = (i + 1) & (cap - 1);
	v[i] = h;
}

static void nogi_add(struct ignore *ig, unsigned long long h)
{
	if ((ig->nogi_n + 1) * 4 > ig->nogi_cap * 3) {
		size_t cap = ig->nogi_cap ? ig->nogi_cap * 2 : 256;
		unsigned long long *v = calloc(cap, sizeof *v);

		if (!v)
			return; /* not remembered: looked up again next time */
		for (size_t i = 0; i < ig->nogi_cap; i++)
			if (ig->nogi[i])
				nogi_insert(v, cap, ig->nogi[i]);
		free(ig->nogi);
		ig->nogi = v;
		ig->nogi_cap = cap;
	}
	nogi_insert(ig->nogi, ig->nogi_cap, h);
	ig->nogi_n++;
}

static void nogi_del(struct ignore *ig, unsigned long long h)
{
	long at = nogi_find(ig, h);
	size_t i, j, cap = ig->nogi_cap;

	if (at < 0)
		return;
	i = j = (size_t)at;
	ig->nogi[i] = 0;
	ig->nogi_n--;
	for (;;) {
		j = (j + 1) & (cap - 1);
		if (!ig->nogi[j])
			return;
		size_t home = (size_t)(ig->nogi[j] ^ (ig->nogi[j] >> 31)) & (cap - 1);

		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			ig->nogi[i] = ig->nogi[j];
			ig->nogi[j] = 0;
			i = j;
		}
	}
}

/* The rules of reldir/.gitignore, loading them on first use; NULL when there are none. */
static struct patlist *gitignore_of(struct ignore *ig, const char *reldir)
{
	unsigned long long h = dir_hash(reldir);
	struct patlist *pl;
	char path[4096];
	struct stat st;
	char *text;
	int fd, n;

	if (nogi_find(ig, h) >= 0)
		return NULL;
	if ((pl = strmap_get(&ig->gi, reldir)))
		return pl;
	n = snprintf(path, sizeof path, "%s%s%s/.gitignore", ig->root, *reldir ? "/" : "", reldir);
	pl = NULL;
	if (n > 0 && (size_t)n < sizeof path && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (16 << 20) &&
		    (text = malloc((size_t)st.st_size + 1))) {
			ssize_t got = read(fd, text, (size_t)st.st_size);
			struct patlist *fresh = calloc(1, sizeof *fresh);

			if (got >= 0 && fresh && patlist_parse(fresh, text, (size_t)got) == 0 && fresh->n) {
				pl = fresh;
			} else if (fresh) {
				patlist_free(fresh);
				free(fresh);
			}
			free(text);
		}
		close(fd);
	}
	if (!pl) {
		nogi_add(ig, h);
		return NULL;
	}
	if (strmap_put(&ig->gi, reldir, pl, NULL) != 0) {
		patlist_free(pl); /* not cached: parse again next time */
		free(pl);
		return NULL;
	}
	return pl;
}

/* The repository-wide rules (.git/info/exclude, core.excludesFile) for rel; 1 when they ignore it. */
static int gitexcl_match(const struct ignore *ig, const char *rel, int is_dir)
{
	char full[4096];
	int n;

	if (!ig->git_prefix || !ig->gitexcl.n)
		return 0;
	n = snprintf(full, sizeof full, "%s%s", ig->git_prefix, rel);
	if (n < 0 || (size_t)n >= sizeof full)
		return 0;
	return patlist_match(&ig->gitexcl, full, is_dir) > 0;
}

int ignore_path(struct ignore *ig, const char *rel, int is_dir)
{
	const char *base = strrchr(rel, '/');
	char dir[4096];
	size_t len;

	base = base ? base + 1 : rel;
	if (!*rel)
		return 0;
	if (strcmp(base, ".git") == 0 || strcmp(rel, ".reloader-sync") == 0) /* the sync's staging dir (stage.c) */
		return 1;
	if (ig->extra.n && strmap_get(&ig->extra, rel))
		return 1;
	if (ig->exclude.n && patlist_match(&ig->exclude, rel, is_dir) > 0)
		return 1;
	if (!ig->gitignore)
		return 0;
	/* From the parent directory upwards: the deepest .gitignore with a matching line decides,
	 * then .git/info/exclude, then the global excludes file (git's order). */
	len = (size_t)(base - rel);
	if (len >= sizeof dir)
		return 0;
	memcpy(dir, rel, len);
	dir[len ? len - 1 : 0] = '\0';
	for (;;) {
		struct patlist *pl = gitignore_of(ig, dir);
		size_t dl = strlen(dir);

		if (pl) {
			int r = patlist_match(pl, dl ? rel + dl + 1 : rel, is_dir);

			if (r)
				return r > 0;
		}
		if (!dl)
			return gitexcl_match(ig, rel, is_dir);
		char *slash = strrchr(dir, '/');

		if (slash)
			*slash = '\0';
		else
			dir[0] = '\0';
	}
}

/* 1 when the last segment of glob starts with a literal '.' (it names hidden files on purpose). */
static int names_hidden(const char *glob)
{
	const char *last = strrchr(glob, '/');

	return (last ? last[1] : glob[0]) == '.';
}

int ignore_included(const struct ignore *ig, const char *rel)
{
	const char *base = strrchr(rel, '/');
	int hidden;

	if (ig->include.n == 0)
		return 1;
	base = base ? base + 1 : rel;
	hidden = ig->no_hidden && base[0] == '.';
	for (size_t i = ig->include.n; i-- > 0;) {
		const struct pattern *p = &ig->include.v[i];

		if (p->flags & PAT_DIRONLY)
			continue;
		if (hidden && !names_hidden(p->glob))
			continue; /* `**` / `*.go` never mean `.#main.go` or `.x.go` */
		if (glob_match(p->glob, (p->flags & PAT_ANCHORED) ? rel : base))
			return !(p->flags & PAT_NEGATE);
	}
	return 0;
}

static void free_rules(void *v)
{
	struct patlist *pl = v;

	/* Only parsed lists own memory; the "no .gitignore here" marker is static and empty. */
	if (pl && pl->v) {
		patlist_free(pl);
		free(pl);
	}
}

void ignore_forget(struct ignore *ig, const char *reldir)
{
	free_rules(strmap_del(&ig->gi, reldir));
	nogi_del(ig, dir_hash(reldir));
}

void ignore_free(struct ignore *ig)
{
	strmap_free(&ig->gi, free_rules);
	free(ig->nogi);
	strmap_free(&ig->extra, NULL);
	patlist_free(&ig->exclude);
	patlist_free(&ig->include);
	patlist_free(&ig->gitexcl);
	free(ig->git_prefix);
	free(ig->root);
	memset(ig, 0, sizeof *ig);
}
