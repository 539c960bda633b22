/* contents.c — per-file content digests of the watched tree and what changed since the last commit. */
#include "contents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* Load limit of the main table: 16-byte slots, so 100k files fit in 2 MB (131072 slots). */
#define MAX_LOAD_NUM 85
#define MAX_LOAD_DEN 100

ct_key_t ct_key(const char *rel)
{
	uint64_t h = XXH3_64bits(rel, strlen(rel));
	ct_key_t k = (ct_key_t)(h ^ (h >> 32));

	return k ? k : 1;
}

uint32_t ct_read(int dirfd, const char *name, int64_t *ctime_ns)
{
	static _Thread_local char buf[1 << 16]; /* the inotify thread and the poller (loop) both read */
	XXH3_state_t *xs;
	uint64_t h, size = 0;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? CT_ABSENT : 0x1e3779b9u;
	if (ctime_ns) {
		struct stat st;

		*ctime_ns = fstat(fd, &st) == 0 ? (int64_t)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec : 0;
	}
	/* Three system calls per file: the callers know it is no directory; a FIFO or device gives
	 * EAGAIN or data, either way a value of its own. */
	if (!(xs = XXH3_createState())) {
		close(fd);
		return 0x2e3779b9u;
	}
	XXH3_64bits_reset(xs);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EISDIR) {
				XXH3_freeState(xs);
				close(fd);
				return CT_ABSENT;
			}
			break;
		}
		XXH3_64bits_update(xs, buf, (size_t)n);
		size += (uint64_t)n;
		if ((size_t)n < sizeof buf)
			break; /* a short read of a regular file is its end */
	}
	h = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	close(fd);
	return ct_value(h, size);
}

uint32_t ct_value(uint64_t h, uint64_t size)
{
	uint32_t v;

	h ^= size * 0x9e3779b97f4a7c15ull;
	v = (uint32_t)(h ^ (h >> 32)) & ~CT_UNSURE;
	return v ? v : 1;
}

static size_t slot_of(ct_key_t key, size_t cap) { return (size_t)(key ^ (key >> 17)) & (cap - 1); }

static long find(const ct_key_t *keys, size_t cap, ct_key_t key)
{
	if (!cap)
		return -1;
	for (size_t i = slot_of(key, cap);; i = (i + 1) & (cap - 1)) {
		if (keys[i] == key)
			return (long)i;
		if (!keys[i])
			return -1;
	}
}

/* Main table: rehashed into cap slots (a power of two). */
static int resize_main(struct contents *c, size_t cap)
{
	ct_key_t *k = calloc(cap, sizeof *k);
	uint32_t *v = calloc(cap, sizeof *v);
	int32_t *d = calloc(cap, sizeof *d);

	if (!k || !v || !d) {
		free(k);
		free(v);
		free(d);
		return -1;
	}
	for (size_t i = 0; i < c->cap; i++) {
		if (!c->key[i])
			continue;
		size_t j = slot_of(c->key[i], cap);

		while (k[j])
			j = (j + 1) & (cap - 1);
		k[j] = c->key[i];
		v[j] = c->val[i];
		d[j] = c->dir[i];
	}
	free(c->key);
	free(c->val);
	free(c->dir);
	c->key = k;
	c->val = v;
	c->dir = d;
	c->cap = cap;
	return 0;
}

/* Doubles to keep the load under MAX_LOAD. */
static int grow_main(struct contents *c) { return resize_main(c, c->cap ? c->cap * 2 : 256); }

int ct_reserve(struct contents *c, size_t files)
{
	size_t cap = 256;

	while (files * MAX_LOAD_DEN > cap * MAX_LOAD_NUM)
		cap *= 2;
	return cap > c->cap ? resize_main(c, cap) : 0;
}

/* Linear probing's deletion: shift later members of the cluster back into the hole. */
static void del_main(struct contents *c, size_t i)
{
	size_t j = i;

	c->key[i] = 0;
	c->n--;
	for (;;) {
		j = (j + 1) & (c->cap - 1);
		if (!c->key[j])
			return;
		size_t home = slot_of(c->key[j], c->cap);

		/* j's entry may move to the hole at i only if its home is not in (i, j] cyclically */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			c->key[i] = c->key[j];
			c->val[i] = c->val[j];
			c->dir[i] = c->dir[j];
			c->key[j] = 0;
			i = j;
		}
	}
}

static int grow_base(struct contents *c)
{
	size_t cap = c->bcap ? c->bcap * 2 : 64;
	ct_key_t *k = calloc(cap, sizeof *k);
	uint32_t *v = calloc(cap, sizeof *v);

	if (!k || !v) {
		free(k);
		free(v);
		return -1;
	}
	for (size_t i = 0; i < c->bcap; i++) {
		if (!c->bkey[i])
			continue;
		size_t j = slot_of(c->bkey[i], cap);

		while (k[j])
			j = (j + 1) & (cap - 1);
		k[j] = c->bkey[i];
		v[j] = c->bval[i];
	}
	free(c->bkey);
	free(c->bval);
	c->bkey = k;
	c->bval = v;
	c->bcap = cap;
	return 0;
}

uint32_t ct_get(const struct contents *c, ct_key_t key)
{
	long i = find(c->key, c->cap, key);

	return i < 0 ? CT_ABSENT : c->val[i];
}

int ct_is_dirty(const struct contents *c, ct_key_t key)
{
	long b = find(c->bkey, c->bcap, key);

	return b >= 0 && c->bval[b] != ct_get(c, key);
}

/* Counts the move of key from old to new against the commit. */
static int track(struct contents *c, ct_key_t key, uint32_t old, uint32_t new)
{
	long b = find(c->bkey, c->bcap, key);
	uint32_t base;
	int was;

	if (b < 0) {
		if (old == new)
			return 0;
		if ((c->bn + 1) * 4 > c->bcap * 3 && grow_base(c) != 0)
			return -1;
		size_t j = slot_of(key, c->bcap);

		while (c->bkey[j])
			j = (j + 1) & (c->bcap - 1);
		c->bkey[j] = key;
		c->bval[j] = old;
		c->bn++;
		base = old;
		was = 0;
	} else {
		base = c->bval[b];
		was = base != old;
	}
	c->dirty += (size_t)(base != new) - (size_t)was;
	return 0;
}

int ct_set(struct contents *c, ct_key_t key, uint32_t val, int dir, int track_it)
{
	long i = find(c->key, c->cap, key);
	uint32_t old = i < 0 ? CT_ABSENT : c->val[i];

	if (track_it && track(c, key, old, val) != 0) {
		c->forced = 1;
		return -1;
	}
	if (val == CT_ABSENT) {
		if (i >= 0)
			del_main(c, (size_t)i);
		return old != val;
	}
	if (i >= 0) {
		c->val[i] = val;
		c->dir[i] = dir;
		return old != val;
	}
	if ((c->n + 1) * MAX_LOAD_DEN > c->cap * MAX_LOAD_NUM && grow_main(c) != 0) {
		c->forced = 1;
		return -1;
	}
	size_t j = slot_of(key, c->cap);

	while (c->key[j])
		j = (j + 1) & (c->cap - 1);
	c->key[j] = key;
	c->val[j] = val;
	c->dir[j] = dir;
	c->n++;
	return 1;
}

int ct_update(struct contents *c, ct_key_t key, uint32_t val)
{
	long i = find(c->key, c->cap, key);

	return ct_set(c, key, val, i < 0 ? -1 : c->dir[i], 1);
}

void ct_absorb(struct contents *c, ct_key_t key)
{
	long b = find(c->bkey, c->bcap, key);
	uint32_t cur = ct_get(c, key);

	if (b < 0)
		return;
	if (c->bval[b] != cur)
		c->dirty--;
	c->bval[b] = cur;
}

void ct_clear_unsure(struct contents *c)
{
	for (size_t i = 0; i < c->cap; i++) {
		if (!c->key[i] || !(c->val[i] & CT_UNSURE))
			continue;
		if (c->val[i] == (CT_UNSURE | 1) || c->val[i] == CT_PENDING) {
			ct_set(c, c->key[i], CT_ABSENT, 0, 0);
			i--; /* the deletion shifted a later entry into this slot */
		} else {
			c->val[i] &= ~CT_UNSURE;
		}
	}
}

void ct_forget_dirs(struct contents *c, const int *dirs, size_t ndirs)
{
	ct_key_t *gone = NULL;
	size_t ngone = 0, capgone = 0;

	if (!ndirs || !c->n)
		return;
	for (size_t i = 0; i < c->cap; i++) {
		if (!c->key[i])
			continue;
		for (size_t k = 0; k < ndirs; k++) {
			if (c->dir[i] != dirs[k])
				continue;
			if (ngone == capgone) {
				size_t cap = capgone ? capgone * 2 : 64;
				ct_key_t *g = realloc(gone, cap * sizeof *g);

				if (!g) {
					c->forced = 1;
					free(gone);
					return;
				}
				gone = g;
				capgone = cap;
			}
			gone[ngone++] = c->key[i];
			break;
		}
	}
	for (size_t k = 0; k < ngone; k++)
		ct_set(c, gone[k], CT_ABSENT, 0, 1);
	free(gone);
}

void ct_note_path(struct contents *c, const char *rel)
{
	for (size_t i = 0; i < c->nrecent; i++)
		if (strcmp(c->recent[i], rel) == 0)
			return;
	if (c->nrecent < CT_RECENT && (c->recent[c->nrecent] = strdup(rel)))
		c->nrecent++;
	else
		c->more++;
}

int ct_changed(const struct contents *c) { return c->dirty > 0 || c->forced; }

void ct_commit(struct contents *c)
{
	if (c->bn)
		memset(c->bkey, 0, c->bcap * sizeof *c->bkey);
	c->bn = 0;
	c->dirty = 0;
	c->forced = 0;
	for (size_t i = 0; i < c->nrecent; i++)
		free(c->recent[i]);
	c->nrecent = 0;
	c->more = 0;
}

void ct_reset(struct contents *c)
{
	if (c->n)
		memset(c->key, 0, c->cap * sizeof *c->key);
	c->n = 0;
	if (c->bn)
		memset(c->bkey, 0, c->bcap * sizeof *c->bkey);
	c->bn = 0;
	c->dirty = 0;
	c->forced = 1;
}

void ct_free(struct contents *c)
{
	ct_commit(c);
	free(c->key);
	free(c->val);
	free(c->dir);
	free(c->bkey);
	free(c->bval);
	memset(c, 0, sizeof *c);
}
