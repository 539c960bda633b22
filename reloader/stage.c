/* stage.c — staging and all-or-nothing commit of a sync batch's files under the source root (stage.h).
 *
 * Safety: every path is walked component by component with openat(O_NOFOLLOW | O_DIRECTORY) from
 * the root's own descriptor, so no symlink (pointing out or in) is ever followed and nothing is
 * written outside the root. Files are renamed into place (atomic per file); the file a rename
 * replaces, and every deleted file, is first kept as a hard link / moved into the staging directory
 * so that a failed commit can put all of it back.
 *
 * Two layouts: a file whose directory exists in the root is staged flat ("f<N>") and renamed into
 * place; a file whose directory is missing (a new directory, the whole tree on a first sync) is
 * staged at its own path under "t/", and the commit renames the first missing directory of the
 * staged tree into the root in one step, with every batch file below it (ext4 spends more on
 * 10,000 renames between directories than on writing the files). Undo renames it back. A path the
 * tree layout cannot hold (named twice, or a file where the batch has a directory) is staged flat,
 * so the commit still applies the steps in batch order and refuses what that order refuses. */
#include "stage.h"

#include "contents.h"
#include "strmap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* One step of the batch, in order. */
struct step {
	char *path;      /* relative to the root */
	int is_delete;   /* 0: move staged file "f<N>" into place */
	unsigned mode;   /* files: permission bits */
	int done;        /* applied by stage_commit (undo it on failure) */
	int tree;        /* staged at "t/<path>" (its directory was missing when it arrived) */
	char *moved;     /* the commit moved "t/<moved>" into the root with this step (undo moves it back) */
	int known;       /* received whole: val, ino, size, mtime_ns are set (stage_each_file) */
	uint32_t val;
	unsigned long long ino, size;
	long long mtime_ns;
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
	char missing[1100]; /* a directory the root lacked when the last file arrived ("" none): the next file
			     * there needs no walk to know it (the commit walks again anyway) */
	int tree_fd;        /* ROOT/.reloader-sync/t, -1 until a file needs it */
	int tdir_fd;        /* as dir_fd, for the staged tree: the directory under t/ the last tree file went to */
	char tdir[1100];
	struct strmap moved; /* directories the commit moved in whole (their batch files are in place) */
	int umask_bits;      /* the process umask (-1 unknown): a staged file created with its mode needs no fchmod */
	XXH3_state_t *xs;    /* the file being received, hashed as it arrives (stage_each_file) */
	uint64_t got;        /* its bytes so far */
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

static void clear_dir(int fd);

/* Removes dir_fd/name, a directory, with everything in it (never following a symlink). */
static void remove_tree(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		clear_dir(fd);
		close(fd);
	}
	unlinkat(dir_fd, name, AT_REMOVEDIR);
}

/* Empties a staging directory (the staged tree's directories too). */
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
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && unlinkat(fd, de->d_name, 0) != 0 &&
		    errno == EISDIR)
			remove_tree(fd, de->d_name);
	closedir(d);
}

/* The umask from /proc/self/status (umask(2) would change it, racing the watcher thread); -1 unknown. */
static int read_umask(void)
{
	char line[128];
	unsigned v;
	int out = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Umask: %o", &v) == 1) {
			out = (int)(v & 0777);
			break;
		}
	fclose(f);
	return out;
}

struct stage *stage_open(const char *root, char *err, size_t cap)
{
	struct stage *st = calloc(1, sizeof *st);
	struct stat sb;

	if (!st) {
		say(err, cap, STAGE_IO, "out of memory");
		return NULL;
	}
	st->file_fd = st->stage_fd = st->dir_fd = st->tree_fd = st->tdir_fd = -1;
	st->umask_bits = read_umask();
	if (!(st->xs = XXH3_createState())) {
		say(err, cap, STAGE_IO, "out of memory");
		free(st);
		return NULL;
	}
	if ((st->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		say(err, cap, STAGE_IO, "cannot open the source root %s: %s", root, strerror(errno));
		XXH3_freeState(st->xs);
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

static enum stage_error check_path(struct stage *st, const char *path, int *missing, char *err, size_t cap)
{
	const char *base, *last = strrchr(path, '/');
	size_t dlen = last ? (size_t)(last - path) : 0;
	enum stage_error e;
	int fd, rc;

	if (last && st->missing[0] && dlen < sizeof st->missing && !strncmp(st->missing, path, dlen) &&
	    !st->missing[dlen]) {
		if (missing)
			*missing = 1;
		return STAGE_OK;
	}
	fd = open_parent(st, path, NULL, &base, err, cap, &e);
	if (missing)
		*missing = fd == -2;
	if (fd == -2) {
		if (dlen < sizeof st->missing) {
			memcpy(st->missing, path, dlen);
			st->missing[dlen] = 0;
		}
		return STAGE_OK; /* a new directory: nothing on the way can be a symlink yet */
	}
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

/*
 * Creates t/<path> for a file whose directory the root lacks, making the staged directories on the
 * way (the last one's descriptor is kept: a batch's files come directory by directory). Returns the
 * open file, or -1 when the tree layout cannot hold it (path staged already, a staged file where a
 * directory goes, or the disk said no): the caller stages it flat, which refuses or reports it.
 */
static int tree_create(struct stage *st, const char *path, unsigned mode)
{
	const char *last = strrchr(path, '/'), *p = path, *slash;
	size_t dlen = last ? (size_t)(last - path) : 0;
	int fd, file;

	if (!last || dlen >= sizeof st->tdir)
		return -1;
	if (st->tree_fd < 0) {
		if (mkdirat(st->stage_fd, "t", 0700) != 0 && errno != EEXIST)
			return -1;
		if ((st->tree_fd = openat(st->stage_fd, "t", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return -1;
	}
	if (st->tdir_fd >= 0 && !strncmp(st->tdir, path, dlen) && !st->tdir[dlen]) {
		fd = st->tdir_fd;
	} else {
		if (st->tdir_fd >= 0)
			close(st->tdir_fd);
		st->tdir_fd = -1;
		if ((fd = dup(st->tree_fd)) < 0)
			return -1;
		while ((slash = strchr(p, '/'))) {
			char comp[1100];
			int next;

			snprintf(comp, sizeof comp, "%.*s", (int)(slash - p), p);
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0 && errno == ENOENT && mkdirat(fd, comp, 0755) == 0)
				next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(fd);
			if (next < 0)
				return -1;
			fd = next;
			p = slash + 1;
		}
		st->tdir_fd = fd;
		memcpy(st->tdir, path, dlen);
		st->tdir[dlen] = 0;
	}
	file = openat(fd, last + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	return file;
}

enum stage_error stage_file_begin(struct stage *st, const char *path, unsigned mode, char *err, size_t cap)
{
	int missing = 0;
	enum stage_error e = check_path(st, path, &missing, err, cap);
	struct step *s;
	char name[32];

	if (e != STAGE_OK)
		return e;
	if (!(s = add_step(st, path, err, cap)))
		return say(err, cap, STAGE_IO, "out of memory");
	s->mode = mode & 0777;
	XXH3_64bits_reset(st->xs);
	st->got = 0;
	/* created with its mode (inside the 0700 staging directory, so nobody else can open it); the
	 * umask's bits are put back by stage_file_end */
	if (missing && (st->file_fd = tree_create(st, path, s->mode)) >= 0) {
		s->tree = 1;
		return STAGE_OK;
	}
	step_name(name, sizeof name, 'f', st->n - 1);
	st->file_fd = openat(st->stage_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, s->mode);
	if (st->file_fd < 0)
		return say(err, cap, STAGE_IO, "%s: cannot create the staged copy: %s", path, strerror(errno));
	return STAGE_OK;
}

enum stage_error stage_file_data(struct stage *st, const char *data, size_t len, char *err, size_t cap)
{
	XXH3_64bits_update(st->xs, data, len);
	st->got += len;
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
	int rc = st->umask_bits >= 0 && !(s->mode & (unsigned)st->umask_bits) ? 0 : fchmod(st->file_fd, s->mode);
	struct stat sb;

	if (rc == 0 && fstat(st->file_fd, &sb) == 0 && (uint64_t)sb.st_size == st->got) {
		s->known = 1;
		s->val = ct_value(XXH3_64bits_digest(st->xs), st->got);
		s->ino = (unsigned long long)sb.st_ino;
		s->size = (unsigned long long)sb.st_size;
		s->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
	}

	if (close(st->file_fd) != 0 || rc != 0) {
		st->file_fd = -1;
		return say(err, cap, STAGE_IO, "%s: cannot finish the staged copy: %s", s->path, strerror(errno));
	}
	st->file_fd = -1;
	return STAGE_OK;
}

enum stage_error stage_delete(struct stage *st, const char *path, char *err, size_t cap)
{
	enum stage_error e = check_path(st, path, NULL, err, cap);
	struct step *s;

	if (e != STAGE_OK)
		return e;
	if (!(s = add_step(st, path, err, cap)))
		return say(err, cap, STAGE_IO, "out of memory");
	s->is_delete = 1;
	return STAGE_OK;
}

/* 1 when a directory on path was moved in whole by an earlier step (so this tree file came with it). */
static int under_moved(struct stage *st, const char *path)
{
	char pre[1100];

	if (!st->moved.n)
		return 0;
	for (const char *p = path; (p = strchr(p, '/')); p++) {
		if ((size_t)(p - path) >= sizeof pre)
			return 0;
		memcpy(pre, path, (size_t)(p - path));
		pre[p - path] = 0;
		if (strmap_get(&st->moved, pre))
			return 1;
	}
	return 0;
}

/*
 * A tree file's step: walks the root like open_parent; at the first missing directory, renames the
 * staged one ("t/<prefix>", this file and every later tree file below it) into place. Returns 1
 * when it did, 0 when every directory exists (the file goes in alone: *fd is its directory), -1 on
 * error (err set).
 */
static int move_in(struct stage *st, struct step *s, int *fd, const char **base, char *err, size_t cap,
		   enum stage_error *e)
{
	char comp[1100];
	const char *p = s->path, *slash;
	int cur = dup(st->root_fd);

	*e = STAGE_OK;
	if (cur < 0) {
		*e = say(err, cap, STAGE_IO, "dup: %s", strerror(errno));
		return -1;
	}
	while ((slash = strchr(p, '/'))) {
		size_t plen = (size_t)(slash - s->path);
		int next;

		snprintf(comp, sizeof comp, "%.*s", (int)(slash - p), p);
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (!(s->moved = strndup(s->path, plen))) {
				*e = say(err, cap, STAGE_IO, "out of memory");
			} else if (renameat(st->tree_fd, s->moved, cur, comp) != 0) {
				*e = say(err, cap, STAGE_IO, "%s: cannot move directory %s into place: %s", s->path,
					 s->moved, strerror(errno));
			} else if (strmap_put(&st->moved, s->moved, (void *)1, NULL) != 0) {
				renameat(cur, comp, st->tree_fd, s->moved);
				*e = say(err, cap, STAGE_IO, "out of memory");
			}
			close(cur);
			if (*e != STAGE_OK) {
				free(s->moved);
				s->moved = NULL;
				return -1;
			}
			return 1;
		}
		if (next < 0) {
			int saved = errno;

			close(cur);
			*e = saved == ELOOP || saved == ENOTDIR
				     ? say(err, cap, STAGE_REFUSED,
					   "%s: %.*s is a symlink or not a directory; refusing to write through it",
					   s->path, (int)plen, s->path)
				     : say(err, cap, STAGE_IO, "%s: cannot open %.*s: %s", s->path, (int)plen, s->path,
					   strerror(saved));
			return -1;
		}
		close(cur);
		cur = next;
		p = slash + 1;
	}
	*fd = cur;
	*base = p;
	return 0;
}

/* Applies step i. Returns STAGE_OK (s->done set when something changed) or an error. */
static enum stage_error apply(struct stage *st, size_t i, char *err, size_t cap)
{
	struct step *s = &st->steps[i];
	char staged[32], old[32];
	const char *base;
	enum stage_error e;
	int fd = -1, exists, src_fd = st->stage_fd;
	const char *src = staged;

	if (s->tree) {
		int rc;

		if (under_moved(st, s->path))
			return STAGE_OK; /* in place: it came with its directory (whose step undoes it) */
		if ((rc = move_in(st, s, &fd, &base, err, cap, &e)) != 0) {
			s->done = rc > 0;
			return rc > 0 ? STAGE_OK : e;
		}
		src_fd = st->tree_fd; /* its directories exist now (made since it arrived): it goes in alone */
		src = s->path;
	} else
		fd = open_parent(st, s->path, s->is_delete ? NULL : s, &base, err, cap, &e);

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
	if (renameat(src_fd, src, fd, base) != 0) {
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

	if (s->done && s->moved) { /* the staged directory goes back where it came from */
		forget_dir(st);    /* a remembered descriptor may be inside it */
		if ((fd = open_parent(st, s->moved, NULL, &base, err, sizeof err, &e)) >= 0) {
			renameat(fd, base, st->tree_fd, s->moved);
			close(fd);
		}
		forget_dir(st);
		strmap_del(&st->moved, s->moved);
		free(s->moved);
		s->moved = NULL;
	} else if (s->done && (fd = open_parent(st, s->path, NULL, &base, err, sizeof err, &e)) >= 0) {
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
	if (st->tdir_fd >= 0)
		close(st->tdir_fd);
	if (st->tree_fd >= 0)
		close(st->tree_fd);
	strmap_free(&st->moved, NULL);
	XXH3_freeState(st->xs);
	if (st->stage_fd >= 0) {
		clear_dir(st->stage_fd);
		close(st->stage_fd);
		unlinkat(st->root_fd, STAGE_DIR, AT_REMOVEDIR);
	}
	for (size_t i = 0; i < st->n; i++) {
		for (size_t j = 0; j < st->steps[i].made_dirs; j++)
			free(st->steps[i].dirs[j]);
		free(st->steps[i].dirs);
		free(st->steps[i].moved);
		free(st->steps[i].path);
	}
	free(st->steps);
	close(st->root_fd);
	free(st);
}

void stage_each_file(struct stage *st,
		     void (*fn)(void *arg, const char *path, uint32_t val, unsigned long long ino,
				unsigned long long size, long long mtime_ns),
		     void *arg)
{
	for (size_t i = 0; i < st->n; i++)
		if (!st->steps[i].is_delete && st->steps[i].known)
			fn(arg, st->steps[i].path, st->steps[i].val, st->steps[i].ino, st->steps[i].size,
			   st->steps[i].mtime_ns);
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
