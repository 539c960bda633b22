/* fingerprint.c — scans build inputs (stat fast path, XXH3 content hash), compares, and stores them atomically. */
#include "fingerprint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "log.h"

/* Files changed less than this long before a scan may change again within the same timestamp
 * tick (coarse clocks, 1-2 s granularity of some mounts): their stat is not trusted next time. */
#define RACY_NS 2000000000LL

static int64_t ts_ns(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec; }

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct fp_entry *)a)->path, ((const struct fp_entry *)b)->path);
}

static const struct fp_entry *find(const struct fp_set *s, const char *path)
{
	struct fp_entry key = {.path = (char *)path};

	if (!s || !s->n)
		return NULL;
	return bsearch(&key, s->v, s->n, sizeof *s->v, cmp_entry);
}

static int push(struct fp_set *s, struct fp_entry *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct fp_entry *v = realloc(s->v, cap * sizeof *v);

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *e;
	return 0;
}

static uint64_t hash_fd(int fd, int *ok)
{
	static char buf[1 << 16];
	XXH3_state_t *st = XXH3_createState();
	uint64_t h = 0;
	ssize_t n;

	*ok = 0;
	if (!st)
		return 0;
	XXH3_64bits_reset(st);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			XXH3_freeState(st);
			return 0;
		}
		XXH3_64bits_update(st, buf, (size_t)n);
	}
	h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	*ok = 1;
	return h;
}

/* Records one file (dirfd/name, known as rel). */
static int add_file(struct fp_set *out, int dirfd, const char *name, const char *rel, const struct stat *st,
		    const struct fp_set *prev, int64_t scan_ns)
{
	struct fp_entry e = {0};
	const struct fp_entry *old = find(prev, rel);

	e.size = (uint64_t)st->st_size;
	e.ino = (uint64_t)st->st_ino;
	e.mtime_ns = ts_ns(st->st_mtim);
	e.ctime_ns = ts_ns(st->st_ctim);
	e.mode = (uint32_t)st->st_mode;
	/* Any later write sets mtime to "now": only a recent mtime could be repeated by one. */
	e.racy = e.mtime_ns > scan_ns - RACY_NS;
	if (old && !old->racy && old->size == e.size && old->ino == e.ino && old->mtime_ns == e.mtime_ns &&
	    old->ctime_ns == e.ctime_ns && old->mode == e.mode) {
		e.hash = old->hash;
	} else {
		int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), ok = 0;

		if (fd >= 0) {
			e.hash = hash_fd(fd, &ok);
			close(fd);
		}
		if (!ok) {
			e.hash = 0;
			e.mode = 0;
		}
		out->hashed++;
	}
	if (!(e.path = strdup(rel)))
		return -1;
	if (push(out, &e) != 0) {
		free(e.path);
		return -1;
	}
	return 0;
}

struct dirstack {
	char **v;
	size_t n, cap;
};

static int ds_push(struct dirstack *ds, const char *rel)
{
	char *copy;

	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? ds->cap * 2 : 64;
		char **v = realloc(ds->v, cap * sizeof *v);

		if (!v)
			return -1;
		ds->v = v;
		ds->cap = cap;
	}
	if (!(copy = strdup(rel)))
		return -1;
	ds->v[ds->n++] = copy;
	return 0;
}

/* Walks the tree below rel (a directory relative to rootfd). */
static int scan_tree(struct fp_set *out, int rootfd, const char *start, struct ignore *ig, const struct fp_set *prev,
		     int64_t scan_ns)
{
	struct dirstack ds = {0};
	char rel[PATH_MAX];
	int rc = 0;

	if (ds_push(&ds, start) != 0)
		return -1;
	while (ds.n && rc == 0) {
		char *dir = ds.v[--ds.n];
		int dfd = openat(rootfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		struct dirent *de;

		if (!d) {
			if (dfd >= 0)
				close(dfd);
			free(dir);
			continue;
		}
		while (rc == 0 && (de = readdir(d))) {
			struct stat st;
			int is_dir, n;

			if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
				continue;
			n = snprintf(rel, sizeof rel, "%s%s%s", dir, *dir ? "/" : "", de->d_name);
			if (n < 0 || (size_t)n >= sizeof rel)
				continue;
			if (de->d_type == DT_DIR) {
				is_dir = 1;
			} else if (de->d_type == DT_REG) {
				is_dir = 0;
				if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
					continue;
			} else {
				/* symlinks count as what they point to, but symlinked directories are not entered */
				if (fstatat(dirfd(d), de->d_name, &st, 0) != 0)
					continue;
				if (S_ISDIR(st.st_mode))
					continue;
				if (!S_ISREG(st.st_mode))
					continue;
				is_dir = 0;
			}
			if (ignore_path(ig, rel, is_dir))
				continue;
			if (is_dir)
				rc = ds_push(&ds, rel);
			else if (ignore_included(ig, rel))
				rc = add_file(out, dirfd(d), de->d_name, rel, &st, prev, scan_ns);
		}
		closedir(d);
		free(dir);
	}
	while (ds.n)
		free(ds.v[--ds.n]);
	free(ds.v);
	return rc;
}

int fp_scan(struct fp_set *out, const char *root, char *const *roots, struct ignore *ig, const struct fp_set *prev)
{
	static char *const whole[] = {".", NULL};
	struct timespec now;
	int rootfd, rc = 0;

	fp_free(out);
	clock_gettime(CLOCK_REALTIME, &now);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return 0; /* no tree: no inputs, which differs from any earlier non-empty set */
	for (char *const *r = roots ? roots : whole; *r && rc == 0; r++) {
		const char *rel = *r;
		struct stat st;

		while (rel[0] == '.' && rel[1] == '/')
			rel += 2;
		if (strcmp(rel, ".") == 0)
			rel = "";
		if (*rel && fstatat(rootfd, rel, &st, 0) != 0)
			continue;
		if (*rel && S_ISREG(st.st_mode)) {
			const char *slash = strrchr(rel, '/');
			char dir[PATH_MAX];
			int dfd;

			snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - rel) : 1, slash ? rel : ".");
			dfd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0) {
				rc = add_file(out, dfd, slash ? slash + 1 : rel, rel, &st, prev, ts_ns(now));
				close(dfd);
			}
			continue;
		}
		rc = scan_tree(out, rootfd, rel, ig, prev, ts_ns(now));
	}
	close(rootfd);
	if (out->n)
		qsort(out->v, out->n, sizeof *out->v, cmp_entry);
	/* overlapping roots list a file twice: keep one */
	size_t j = 0;

	for (size_t i = 0; i < out->n; i++) {
		if (j && strcmp(out->v[i].path, out->v[j - 1].path) == 0)
			free(out->v[i].path);
		else
			out->v[j++] = out->v[i];
	}
	out->n = j;
	return rc;
}

int fp_same_content(const struct fp_set *a, const struct fp_set *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct fp_entry *x = &a->v[i], *y = &b->v[i];

		/* file type and permission bits matter (an executable script), owner/time do not */
		if (x->hash != y->hash || x->size != y->size || (x->mode & 07777) != (y->mode & 07777) ||
		    (x->mode & S_IFMT) != (y->mode & S_IFMT) || strcmp(x->path, y->path) != 0)
			return 0;
	}
	return 1;
}

int fp_same_stat(const struct fp_set *a, const struct fp_set *b)
{
	if (!fp_same_content(a, b))
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct fp_entry *x = &a->v[i], *y = &b->v[i];

		if (x->ino != y->ino || x->mtime_ns != y->mtime_ns || x->ctime_ns != y->ctime_ns || x->racy != y->racy)
			return 0;
	}
	return 1;
}

int fp_append(struct fp_set *s, const struct fp_entry *e)
{
	struct fp_entry copy = *e;

	if (!(copy.path = strdup(e->path)))
		return -1;
	if (push(s, &copy) != 0) {
		free(copy.path);
		return -1;
	}
	return 0;
}

int fp_copy(struct fp_set *dst, const struct fp_set *src)
{
	fp_free(dst);
	if (!src->n)
		return 0;
	if (!(dst->v = malloc(src->n * sizeof *dst->v)))
		return -1;
	dst->cap = src->n;
	for (size_t i = 0; i < src->n; i++) {
		dst->v[i] = src->v[i];
		if (!(dst->v[i].path = strdup(src->v[i].path))) {
			fp_free(dst);
			return -1;
		}
		dst->n++;
	}
	dst->hashed = src->hashed;
	return 0;
}

void fp_move(struct fp_set *dst, struct fp_set *src)
{
	fp_free(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
}

void fp_free(struct fp_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* ---- storage ------------------------------------------------------------------------------
 * "SMFP" u32 version, u64 key, u64 count, then per file: u32 pathlen, path, u64 size, ino, hash,
 * i64 mtime_ns, ctime_ns, u32 mode, u32 racy; then u64 XXH3 of everything before it.
 * Little-endian host order: the file is a cache, not an interchange format. */

#define FP_MAGIC "SMFP"
#define FP_VERSION 1u

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static int put(struct buf *b, const void *data, size_t len)
{
	if (b->n + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *p;

		while (cap < b->n + len)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	return 0;
}

static int mkdirs(const char *dir)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof tmp, "%s", dir);

	if (n < 0 || (size_t)n >= sizeof tmp)
		return -1;
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int fp_save(const char *file, const struct fp_set *s, uint64_t key)
{
	struct buf b = {0};
	uint32_t version = FP_VERSION;
	uint64_t count = s->n, sum;
	char dir[PATH_MAX], tmp[PATH_MAX + 16];
	const char *slash = strrchr(file, '/');
	int fd, ok;

	ok = put(&b, FP_MAGIC, 4) == 0 && put(&b, &version, 4) == 0 && put(&b, &key, 8) == 0 && put(&b, &count, 8) == 0;
	for (size_t i = 0; ok && i < s->n; i++) {
		const struct fp_entry *e = &s->v[i];
		uint32_t len = (uint32_t)strlen(e->path);

		ok = put(&b, &len, 4) == 0 && put(&b, e->path, len) == 0 && put(&b, &e->size, 8) == 0 &&
		     put(&b, &e->ino, 8) == 0 && put(&b, &e->hash, 8) == 0 && put(&b, &e->mtime_ns, 8) == 0 &&
		     put(&b, &e->ctime_ns, 8) == 0 && put(&b, &e->mode, 4) == 0 && put(&b, &e->racy, 4) == 0;
	}
	if (ok) {
		sum = XXH3_64bits(b.p, b.n);
		ok = put(&b, &sum, 8) == 0;
	}
	if (!ok) {
		free(b.p);
		log_error("cache: out of memory writing %s", file);
		return -1;
	}
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - file) : 1, slash ? file : ".");
	snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", file);
	if (mkdirs(dir) != 0 || (fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		log_error("cache: cannot write in %s: %s", dir, strerror(errno));
		free(b.p);
		return -1;
	}
	for (size_t off = 0; off < b.n;) {
		ssize_t w = write(fd, b.p + off, b.n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ok = 0;
			break;
		}
		off += (size_t)w;
	}
	free(b.p);
	if (!ok || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, file) != 0) {
		log_error("cache: cannot write %s: %s", file, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Bounds-checked reader over the loaded bytes. */
struct rd {
	const unsigned char *p, *end;
};

static int get(struct rd *r, void *out, size_t len)
{
	if ((size_t)(r->end - r->p) < len)
		return -1;
	memcpy(out, r->p, len);
	r->p += len;
	return 0;
}

int fp_load(const char *file, struct fp_set *s, uint64_t key)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *data = NULL;
	struct rd r;
	char magic[4];
	uint32_t version;
	uint64_t fkey, count, sum;
	size_t got = 0;

	fp_free(s);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) != 0 || st.st_size < 32 || st.st_size > (1LL << 32) || !(data = malloc((size_t)st.st_size)))
		goto damaged;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto damaged;
		got += (size_t)n;
	}
	memcpy(&sum, data + got - 8, 8);
	if (XXH3_64bits(data, got - 8) != sum)
		goto damaged;
	r.p = data;
	r.end = data + got - 8;
	if (get(&r, magic, 4) || memcmp(magic, FP_MAGIC, 4) != 0 || get(&r, &version, 4) || version != FP_VERSION ||
	    get(&r, &fkey, 8) || fkey != key || get(&r, &count, 8) || count > (uint64_t)(r.end - r.p) / 4)
		goto damaged;
	for (uint64_t i = 0; i < count; i++) {
		struct fp_entry e = {0};
		uint32_t len;

		if (get(&r, &len, 4) || len >= PATH_MAX || (size_t)(r.end - r.p) < len)
			goto damaged;
		if (!(e.path = strndup((const char *)r.p, len)))
			goto damaged;
		r.p += len;
		if (get(&r, &e.size, 8) || get(&r, &e.ino, 8) || get(&r, &e.hash, 8) || get(&r, &e.mtime_ns, 8) ||
		    get(&r, &e.ctime_ns, 8) || get(&r, &e.mode, 4) || get(&r, &e.racy, 4) || push(s, &e) != 0) {
			free(e.path);
			goto damaged;
		}
		if (s->n > 1 && strcmp(s->v[s->n - 2].path, e.path) >= 0)
			goto damaged; /* must be sorted for lookups */
	}
	if (r.p != r.end)
		goto damaged;
	free(data);
	close(fd);
	return 0;
damaged:
	free(data);
	close(fd);
	fp_free(s);
	return -1;
}
