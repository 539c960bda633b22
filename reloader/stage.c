/* stage.c — staging and all-or-nothing commit of a sync batch's files under the source root (stage.h).
 *
 * Safety: every path is walked component by component with openat(O_NOFOLLOW | O_DIRECTORY) from
 * the root's own descriptor, so no symlink (pointing out or in) is ever followed and nothing is
 * written outside the root. Files are renamed into place (atomic per file); the file a rename
 * replaces, and every deleted file, is first kept as a hard link / moved into the staging directory
 * so that a failed commit can put all of it back. */
#include "stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One step of the batch, in order. */
struct step {
	char *path;      /* relative to the root */
	int is_delete;   /* 0: move staged file "f<N>" into place */
	unsigned mode;   /* files: permission bits */
	int done;        /* applied by stage_commit (undo it on failure) */
	int had_old;     /* an old file was kept as "o<N>" in the staging directory */
	size_t made_dirs; /* directories this step created (removed again on undo, innermost first) */
	char **dirs;
};

struct stage {
	int root_fd;  /* the source root */
	int stage_fd; /* ROOT/.reloader-sync */
	int file_fd;  /* the staged file being received, -1 between files */
	/* the directory the last path's walk ended in: the next path in the same directory (the usual
	 * order of a batch) starts there instead of walking from the root again. Dropped when the commit
	 * starts, so the commit walks every directory afresh once. */
	int dir_fd;   /* -1: none */
	char dir[1100];
	struct step *steps;
	size_t n, cap;
};

static enum stage_error say(char *err, size_t cap, enum stage_error e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum stage_error say(char *err, size_t cap, enum stage_error e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return e;
}

/* Empties the (flat) staging directory. */
static void clear_dir(int fd)
{
	int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* its own offset */
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(fd, de->d_name, 0);
	closedir(d);
}

struct stage *stage_open(const char *root, char *err, size_t cap)
{
	struct stage *st = calloc(1, sizeof *st);
	struct stat sb;

	if (!st) {
		say(err, cap, STAGE_IO, "out of memory");
		return NULL;
	}
	st->file_fd = st->stage_fd = st->dir_fd = -1;
	if ((st->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		say(err, cap, STAGE_IO, "cannot open the source root %s: %s", root, strerror(errno));
		free(st);
		return NULL;
	}
	if (fstatat(st->root_fd, STAGE_DIR, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(sb.st_mode))
		unlinkat(st->root_fd, STAGE_DIR, 0); /* not ours to follow */
	if (mkdirat(st->root_fd, STAGE_DIR, 0700) != 0 && errno != EEXIST) {
		say(err, cap, STAGE_IO, "cannot create %s/%s: %s", root, STAGE_DIR, strerror(errno));
		stage_close(st);
		return NULL;
	}
	if ((st->stage_fd = openat(st->root_fd, STAGE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		say(err, cap, STAGE_IO, "cannot open %s/%s: %s", root, STAGE_DIR, strerror(errno));
		stage_close(st);
		return NULL;
	}
	clear_dir(st->stage_fd);
	return st;
}

/*
 * Opens the directory holding path's last component, walking from the root without following
 * symlinks. With mk (commit), missing directories are created and recorded in s. Returns the fd
 * (or -2 when a directory is missing and !mk: the file does not exist yet), -1 on refusal/error.
 * *base points at the last component.
 */
static int open_parent(struct stage *st, const char *path, struct step *s, const char **base, char *err, size_t cap,
		       enum stage_error *e)
{
	char comp[1100];
	const char *p = path, *slash, *last = strrchr(path, '/');
	size_t dlen = last ? (size_t)(last - path) : 0;
	int fd;

	*e = STAGE_OK;
	if (st->dir_fd >= 0 && last && dlen < sizeof st->dir && !strncmp(st->dir, path, dlen) && !st->dir[dlen]) {
		*base = last + 1;
		if ((fd = dup(st->dir_fd)) < 0)
			*e = say(err, cap, STAGE_IO, "dup: %s", strerror(errno));
		return fd;
	}
	fd = dup(st->root_fd);
	if (fd < 0) {
		*e = say(err, cap, STAGE_IO, "dup: %s", strerror(errno));
		return -1;
	}
	while ((slash = strchr(p, '/'))) {
		int next;

		snprintf(comp, sizeof comp, "%.*s", (int)(slash - p), p);
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && s) {
			if (mkdirat(fd, comp, 0755) != 0) {
				*e = say(err, cap, STAGE_IO, "%s: cannot create directory %.*s: %s", path, (int)(slash - path),
					 path, strerror(errno));
				close(fd);
				return -1;
			}
			char **v = realloc(s->dirs, (s->made_dirs + 1) * sizeof *v);

			if (v) {
				s->dirs = v;
				s->dirs[s->made_dirs] = strndup(path, (size_t)(slash - path));
				if (s->dirs[s->made_dirs])
					s->made_dirs++;
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int saved = errno;

			close(fd);
			if (saved == ENOENT)
				return -2;
			if (saved == ELOOP || saved == ENOTDIR) {
				*e = say(err, cap, STAGE_REFUSED, "%s: %.*s is a symlink or not a directory; refusing to write through it",
					 path, (int)(slash - path), path);
				return -1;
			}
			*e = say(err, cap, STAGE_IO, "%s: cannot open %.*s: %s", path, (int)(slash - path), path, strerror(saved));
			return -1;
		}
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*base = p;
	if (last && dlen < sizeof st->dir) { /* remember where this walk ended */
		if (st->dir_fd >= 0)
			close(st->dir_fd);
		st->dir_fd = dup(fd);
		memcpy(st->dir, path, dlen);
		st->dir[dlen] = 0;
	}
	return fd;
}

static void forget_dir(struct stage *st)
{
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	st->dir_fd = -1;
}

/* Checks the target: absent or a regular file. Returns 0 absent, 1 regular, -1 refused (err set). */
static int check_target(int dir_fd, const char *base, const char *path, char *err, size_t cap)
{
	struct stat sb;

	if (fstatat(dir_fd, base, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : (say(err, cap, STAGE_IO, "%s: %s", path, strerror(errno)), -1);
	if (S_ISREG(sb.st_mode))
		return 1;
	say(err, cap, STAGE_REFUSED, "%s exists and is %s, not a regular file; refusing to replace it", path,
	    S_ISLNK(sb.st_mode)   ? "a symlink"
	    : S_ISDIR(sb.st_mode) ? "a directory"
				  : "a device, fifo or socket");
	return -1;
}

static enum stage_error check_path(struct stage *st, const char *path, char *err, size_t cap)
{
	const char *base;
	enum stage_error e;
	int fd = open_parent(st, path, NULL, &base, err, cap, &e), rc;

	if (fd == -2)
		return STAGE_OK; /* a new directory: nothing on the way can be a symlink yet */
	if (fd < 0)
		return e;
	rc = check_target(fd, base, path, err, cap);
	close(fd);
	return rc < 0 ? (strstr(err, "refusing") ? STAGE_REFUSED : STAGE_IO) : STAGE_OK;
}

static struct step *add_step(struct stage *st, const char *path, char *err, size_t cap)
{
	struct step *s;

	if (st->n == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 64;
		struct step *v = realloc(st->steps, ncap * sizeof *v);

		if (!v)
			return NULL;
		st->steps = v;
		st->cap = ncap;
	}
	s = &st->steps[st->n];
	memset(s, 0, sizeof *s);
	if (!(s->path = strdup(path))) {
		say(err, cap, STAGE_IO, "out of memory");
		return NULL;
	}
	st->n++;
	return s;
}

static void step_name(char *buf, size_t cap, char kind, size_t i) { snprintf(buf, cap, "%c%zu", kind, i); }

enum stage_error stage_file_begin(struct stage *st, const char *path, unsigned mode, char *err, size_t cap)
{
	enum stage_error e = check_path(st, path, err, cap);
	struct step *s;
	char name[32];

	if (e != STAGE_OK)
		return e;
	if (!(s = add_step(st, path, err, cap)))
		return say(err, cap, STAGE_IO, "out of memory");
	s->mode = mode & 0777;
	step_name(name, sizeof name, 'f', st->n - 1);
	st->file_fd = openat(st->stage_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (st->file_fd < 0)
		return say(err, cap, STAGE_IO, "%s: cannot create the staged copy: %s", path, strerror(errno));
	return STAGE_OK;
}

enum stage_error stage_file_data(struct stage *st, const char *data, size_t len, char *err, size_t cap)
{
	while (len) {
		ssize_t n = write(st->file_fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return say(err, cap, STAGE_IO, "%s: cannot write the staged copy: %s", st->steps[st->n - 1].path,
				   n < 0 ? strerror(errno) : "short write");
		data += n;
		len -= (size_t)n;
	}
	return STAGE_OK;
}

enum stage_error stage_file_end(struct stage *st, char *err, size_t cap)
{
	struct step *s = &st->steps[st->n - 1];
	int rc = fchmod(st->file_fd, s->mode);

	if (close(st->file_fd) != 0 || rc != 0) {
		st->file_fd = -1;
		return say(err, cap, STAGE_IO, "%s: cannot finish the staged copy: %s", s->path, strerror(errno));
	}
	st->file_fd = -1;
	return STAGE_OK;
}

enum stage_error stage_delete(struct stage *st, const char *path, char *err, size_t cap)
{
	enum stage_error e = check_path(st, path, err, cap);
	struct step *s;

	if (e != STAGE_OK)
		return e;
	if (!(s = add_step(st, path, err, cap)))
		return say(err, cap, STAGE_IO, "out of memory");
	s->is_delete = 1;
	return STAGE_OK;
}

/* Applies step i. Returns STAGE_OK (s->done set when something changed) or an error. */
static enum stage_error apply(struct stage *st, size_t i, char *err, size_t cap)
{
	struct step *s = &st->steps[i];
	char staged[32], old[32];
	const char *base;
	enum stage_error e;
	int fd = open_parent(st, s->path, s->is_delete ? NULL : s, &base, err, cap, &e), exists;

	if (fd == -2 && s->is_delete)
		return STAGE_OK; /* already gone */
	if (fd < 0)
		return e == STAGE_OK ? say(err, cap, STAGE_IO, "%s: cannot reach its directory", s->path) : e;
	step_name(staged, sizeof staged, 'f', i);
	step_name(old, sizeof old, 'o', i);
	exists = check_target(fd, base, s->path, err, cap);
	if (exists < 0) {
		close(fd);
		return strstr(err, "refusing") ? STAGE_REFUSED : STAGE_IO;
	}
	if (s->is_delete) {
		if (exists && renameat(fd, base, st->stage_fd, old) != 0) {
			e = say(err, cap, STAGE_IO, "%s: cannot delete: %s", s->path, strerror(errno));
			close(fd);
			return e;
		}
		s->had_old = s->done = exists;
		close(fd);
		return STAGE_OK;
	}
	if (exists && linkat(fd, base, st->stage_fd, old, 0) != 0) {
		e = say(err, cap, STAGE_IO, "%s: cannot keep the old version for undo: %s", s->path, strerror(errno));
		close(fd);
		return e;
	}
	s->had_old = exists;
	if (renameat(st->stage_fd, staged, fd, base) != 0) {
		e = say(err, cap, STAGE_IO, "%s: cannot move into place: %s", s->path, strerror(errno));
		close(fd);
		return e;
	}
	s->done = 1;
	close(fd);
	return STAGE_OK;
}

/* Puts step i's target back as it was. */
static void undo(struct stage *st, size_t i)
{
	struct step *s = &st->steps[i];
	char old[32];
	const char *base;
	enum stage_error e;
	char err[256];
	int fd;

	if (s->done && (fd = open_parent(st, s->path, NULL, &base, err, sizeof err, &e)) >= 0) {
		step_name(old, sizeof old, 'o', i);
		if (s->had_old)
			renameat(st->stage_fd, old, fd, base);
		else
			unlinkat(fd, base, 0);
		close(fd);
	}
	while (s->made_dirs) {
		char *d = s->dirs[--s->made_dirs];

		unlinkat(st->root_fd, d, AT_REMOVEDIR);
		free(d);
	}
	s->done = 0;
}

enum stage_error stage_commit(struct stage *st, unsigned long *written, unsigned long *deleted, char *err, size_t cap)
{
	*written = *deleted = 0;
	forget_dir(st); /* the tree may have changed while the batch arrived: walk again */
	for (size_t i = 0; i < st->n; i++) {
		enum stage_error e = apply(st, i, err, cap);

		if (e != STAGE_OK) {
			for (size_t j = i + 1; j-- > 0;)
				undo(st, j);
			*written = *deleted = 0;
			return e;
		}
		if (st->steps[i].is_delete)
			*deleted += (unsigned long)st->steps[i].done;
		else
			(*written)++;
	}
	return STAGE_OK;
}

void stage_close(struct stage *st)
{
	if (!st)
		return;
	if (st->file_fd >= 0)
		close(st->file_fd);
	forget_dir(st);
	if (st->stage_fd >= 0) {
		clear_dir(st->stage_fd);
		close(st->stage_fd);
		unlinkat(st->root_fd, STAGE_DIR, AT_REMOVEDIR);
	}
	for (size_t i = 0; i < st->n; i++) {
		for (size_t j = 0; j < st->steps[i].made_dirs; j++)
			free(st->steps[i].dirs[j]);
		free(st->steps[i].dirs);
		free(st->steps[i].path);
	}
	free(st->steps);
	close(st->root_fd);
	free(st);
}

int stage_open_read(int root_fd, const char *path)
{
	char comp[1100];
	const char *p = path, *slash;
	int fd = dup(root_fd), file;
	struct stat sb;

	while (fd >= 0 && (slash = strchr(p, '/'))) {
		int next;

		snprintf(comp, sizeof comp, "%.*s", (int)(slash - p), p);
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		p = slash + 1;
	}
	if (fd < 0)
		return -1;
	file = openat(fd, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(fd);
	if (file >= 0 && (fstat(file, &sb) != 0 || !S_ISREG(sb.st_mode))) {
		close(file);
		return -1;
	}
	return file;
}
