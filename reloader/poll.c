/* poll.c — polling watcher: stats only the watched directories and their files, on a libev timer. */
#include "poll.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pent {
	char *name;
	int is_dir;
	uint64_t size, ino;
	int64_t mtime_ns, ctime_ns;
	uint32_t mode;
};

/* One polled directory: its own stat (entries change -> mtime changes) and its entries by name. */
struct pdir {
	uint64_t ino;
	int64_t mtime_ns, ctime_ns;
	struct pent *e;
	size_t n;
};

static int64_t ns(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec; }

static void pent_set(struct pent *e, const struct stat *st)
{
	e->size = (uint64_t)st->st_size;
	e->ino = (uint64_t)st->st_ino;
	e->mtime_ns = ns(st->st_mtim);
	e->ctime_ns = ns(st->st_ctim);
	e->mode = (uint32_t)st->st_mode;
}

static int pent_differs(const struct pent *e, const struct stat *st)
{
	return e->size != (uint64_t)st->st_size || e->ino != (uint64_t)st->st_ino || e->mtime_ns != ns(st->st_mtim) ||
	       e->ctime_ns != ns(st->st_ctim) || e->mode != (uint32_t)st->st_mode;
}

static int cmp_pent(const void *a, const void *b)
{
	return strcmp(((const struct pent *)a)->name, ((const struct pent *)b)->name);
}

static void pdir_free(void *v)
{
	struct pdir *d = v;

	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->e[i].name);
	free(d->e);
	free(d);
}

static void join(char *out, size_t size, const char *dir, const char *name)
{
	snprintf(out, size, "%s%s%s", dir, *dir ? "/" : "", name);
}

/* Reads directory rel (open as dfd) into a fresh snapshot of the entries ig keeps. */
static struct pdir *snapshot(struct poller *p, int dfd, const char *rel)
{
	struct pdir *d = calloc(1, sizeof *d);
	int fd = dup(dfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	size_t cap = 0;
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];

	if (!d || !dir) {
		if (fd >= 0 && !dir)
			close(fd);
		free(d);
		return NULL;
	}
	if (fstat(dfd, &st) == 0) {
		d->ino = (uint64_t)st.st_ino;
		d->mtime_ns = ns(st.st_mtim);
		d->ctime_ns = ns(st.st_ctim);
	}
	while ((de = readdir(dir))) {
		struct pent e = {0};

		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (fstatat(dfd, de->d_name, &st, de->d_type == DT_DIR ? AT_SYMLINK_NOFOLLOW : 0) != 0)
			continue;
		e.is_dir = S_ISDIR(st.st_mode) && de->d_type != DT_LNK;
		if (S_ISDIR(st.st_mode) && !e.is_dir)
			continue;
		join(path, sizeof path, rel, de->d_name);
		if (ignore_path(p->ig, path, e.is_dir) || (!e.is_dir && !ignore_included(p->ig, path)))
			continue;
		pent_set(&e, &st);
		if (d->n == cap) {
			struct pent *v = realloc(d->e, (cap = cap ? cap * 2 : 16) * sizeof *v);

			if (!v)
				break;
			d->e = v;
		}
		if (!(e.name = strdup(de->d_name)))
			break;
		d->e[d->n++] = e;
	}
	closedir(dir);
	if (d->n)
		qsort(d->e, d->n, sizeof *d->e, cmp_pent);
	return d;
}

static size_t count_files(const struct pdir *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += !d->e[i].is_dir;
	return n;
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	poll_tick(t->data);
}

void poll_init(struct poller *p, struct ev_loop *loop, struct ignore *ig, double interval, poll_change_cb cb, void *arg)
{
	memset(p, 0, sizeof *p);
	p->loop = loop;
	p->ig = ig;
	p->interval = interval > 0 ? interval : 0.5;
	p->cb = cb;
	p->arg = arg;
	ev_timer_init(&p->timer, tick_cb, p->interval, p->interval);
	p->timer.data = p;
}

size_t poll_add_tree(struct poller *p, const char *rel)
{
	char **stack = NULL, path[PATH_MAX];
	size_t n = 0, cap = 0, added = 0;
	int rootfd = open(p->ig->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0)
		return 0;
	if ((stack = malloc(sizeof *stack * (cap = 16))) && (stack[0] = strdup(rel)))
		n = 1;
	while (n) {
		char *dir = stack[--n];
		int dfd = strmap_get(&p->dirs, dir) ? -1 : openat(rootfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct pdir *d = dfd >= 0 ? snapshot(p, dfd, dir) : NULL;

		if (dfd >= 0)
			close(dfd);
		if (d && strmap_put(&p->dirs, dir, d, NULL) != 0) {
			pdir_free(d);
			d = NULL;
		}
		for (size_t i = 0; d && i < d->n; i++) {
			if (!d->e[i].is_dir)
				continue;
			if (n == cap) {
				char **v = realloc(stack, sizeof *v * (cap *= 2));

				if (!v)
					break;
				stack = v;
			}
			join(path, sizeof path, dir, d->e[i].name);
			if ((stack[n] = strdup(path)))
				n++;
		}
		if (d) {
			added++;
			p->files += count_files(d);
		}
		free(dir);
	}
	free(stack);
	close(rootfd);
	if (p->dirs.n && !ev_is_active(&p->timer))
		ev_timer_start(p->loop, &p->timer);
	return added;
}

struct keys {
	char **v;
	size_t n;
};

static void collect(const char *key, void *val, void *arg)
{
	struct keys *k = arg;

	(void)val;
	k->v[k->n++] = (char *)key;
}

/* Compares a re-read directory with its old snapshot, reporting every difference. */
static void diff(struct poller *p, const char *rel, const struct pdir *old, const struct pdir *cur, struct keys *newdirs)
{
	size_t i = 0, j = 0;
	char path[PATH_MAX];

	while (i < old->n || j < cur->n) {
		int c = i == old->n ? 1 : j == cur->n ? -1 : strcmp(old->e[i].name, cur->e[j].name);
		const struct pent *e = c <= 0 ? &old->e[i] : &cur->e[j];

		join(path, sizeof path, rel, e->name);
		if (c < 0) {
			p->cb(path, p->arg); /* gone */
			i++;
		} else if (c > 0) {
			p->cb(path, p->arg); /* new */
			if (cur->e[j].is_dir && (newdirs->v[newdirs->n] = strdup(path)))
				newdirs->n++;
			j++;
		} else {
			const struct pent *n = &cur->e[j];

			if (!n->is_dir && (n->size != e->size || n->ino != e->ino || n->mtime_ns != e->mtime_ns ||
					   n->ctime_ns != e->ctime_ns || n->mode != e->mode))
				p->cb(path, p->arg);
			i++;
			j++;
		}
	}
}

void poll_tick(struct poller *p)
{
	struct keys keys = {0}, dead = {0}, newdirs = {0};
	char path[PATH_MAX];
	int rootfd = open(p->ig->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t new_cap = 0;

	if (rootfd < 0 || !(keys.v = malloc(sizeof *keys.v * (p->dirs.n + 1))) ||
	    !(dead.v = malloc(sizeof *dead.v * (p->dirs.n + 1)))) {
		free(keys.v);
		if (rootfd >= 0)
			close(rootfd);
		return;
	}
	strmap_each(&p->dirs, collect, &keys);
	for (size_t k = 0; k < keys.n; k++) {
		const char *rel = keys.v[k];
		struct pdir *d = strmap_get(&p->dirs, rel), *cur;
		int dfd = openat(rootfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct stat st;

		if (dfd < 0 || fstat(dfd, &st) != 0) {
			if (dfd >= 0)
				close(dfd);
			dead.v[dead.n++] = (char *)rel;
			continue;
		}
		if ((uint64_t)st.st_ino != d->ino || ns(st.st_mtim) != d->mtime_ns || ns(st.st_ctim) != d->ctime_ns) {
			/* entries came or went: re-read and compare */
			cur = snapshot(p, dfd, rel);
			if (cur) {
				if (newdirs.n + cur->n >= new_cap) {
					char **v = realloc(newdirs.v, sizeof *v * (new_cap = newdirs.n + cur->n + 16));

					if (!v) {
						pdir_free(cur);
						close(dfd);
						continue;
					}
					newdirs.v = v;
				}
				for (size_t i = 0; i < cur->n; i++) {
					if (strcmp(cur->e[i].name, ".gitignore") == 0) {
						ignore_forget(p->ig, rel);
						break;
					}
				}
				diff(p, rel, d, cur, &newdirs);
				p->files += count_files(cur);
				p->files -= count_files(d);
				strmap_put(&p->dirs, rel, cur, NULL);
				pdir_free(d);
			}
		} else {
			for (size_t i = 0; i < d->n; i++) {
				struct pent *e = &d->e[i];

				if (e->is_dir)
					continue;
				if (fstatat(dfd, e->name, &st, 0) != 0 || pent_differs(e, &st)) {
					pent_set(e, &st);
					join(path, sizeof path, rel, e->name);
					if (strcmp(e->name, ".gitignore") == 0) {
						ignore_forget(p->ig, rel);
						d->mtime_ns = -1; /* re-read next tick with the new rules */
					}
					p->cb(path, p->arg);
				}
			}
		}
		close(dfd);
	}
	for (size_t k = 0; k < dead.n; k++) {
		struct pdir *d = strmap_get(&p->dirs, dead.v[k]);

		p->cb(dead.v[k], p->arg);
		p->files -= count_files(d);
		pdir_free(strmap_del(&p->dirs, dead.v[k]));
	}
	close(rootfd);
	for (size_t k = 0; k < newdirs.n; k++) {
		poll_add_tree(p, newdirs.v[k]);
		free(newdirs.v[k]);
	}
	free(newdirs.v);
	free(keys.v);
	free(dead.v);
	if (!p->dirs.n)
		ev_timer_stop(p->loop, &p->timer);
}

void poll_free(struct poller *p)
{
	if (p->loop)
		ev_timer_stop(p->loop, &p->timer);
	strmap_free(&p->dirs, pdir_free);
	p->files = 0;
}
