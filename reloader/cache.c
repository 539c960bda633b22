/* cache.c — the build cache hooks: fingerprint at build start, record on success, compare before building. */
#include "cache.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <xxhash.h>

#include "duration.h"
#include "fingerprint.h"
#include "ignoredefs.h"
#include "log.h"
#include "watch.h"

struct cache {
	struct supervisor *sv;
	struct config *cfg;
	struct ignore ig;        /* which files are inputs */
	char **roots;            /* where to walk (relative to dir), NULL: dir itself */
	char *file;              /* cache.dir/<id>/fingerprint */
	uint64_t key;            /* digest of everything besides inputs that decides the build */
	struct fp_set good;      /* inputs of the last successful build (from disk or this run) */
	int have_good;
	struct fp_set last;      /* the most recent scan: its hashes are reused when stat is unchanged */
	struct fp_set building;  /* inputs as the running build started to read them */
	int building_ok;         /* building holds a complete scan */
	struct watcher *watcher; /* when set, a quiet watcher vouches for unchanged inputs */
	int verified;            /* the last scan matched `good` ... */
	unsigned long verified_gen; /* ... and the watcher had counted this many changes before it */
	unsigned long building_gen; /* the watcher's count before the scan at build start */
	double check_ms;
};

static void hash_list(XXH3_state_t *st, char *const *l)
{
	for (size_t i = 0; l && l[i]; i++)
		XXH3_64bits_update(st, l[i], strlen(l[i]) + 1);
	XXH3_64bits_update(st, "\n", 1);
}

/* Scans the inputs into c->last (reusing hashes from the previous scan). */
static int scan(struct cache *c)
{
	struct fp_set fresh = {0};
	const struct fp_set *prev = c->last.n ? &c->last : &c->good;

	if (fp_scan(&fresh, c->cfg->dir, c->roots, &c->ig, prev) != 0) {
		fp_free(&fresh);
		log_error("cache: out of memory while scanning inputs");
		return -1;
	}
	fp_move(&c->last, &fresh);
	return 0;
}

static int outputs_present(struct cache *c)
{
	char path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; c->cfg->cache.outputs && c->cfg->cache.outputs[i]; i++) {
		const char *o = c->cfg->cache.outputs[i];
		int n = o[0] == '/' ? snprintf(path, sizeof path, "%s", o)
				    : snprintf(path, sizeof path, "%s/%s", c->cfg->dir, o);

		if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0) {
			log_info("cache: output %s is missing: building", o);
			return 0;
		}
	}
	return 1;
}

static int up_to_date(void *ctx)
{
	struct cache *c = ctx;
	double t0 = mono_seconds() * 1e3;
	unsigned long gen = 0;
	int same;

	if (!c->have_good || !outputs_present(c))
		return 0;
	if (c->watcher && c->verified && watch_quiet(c->watcher, &gen) && gen == c->verified_gen) {
		/* Nothing the watcher covers changed since a scan found the inputs unchanged. */
		c->check_ms = mono_seconds() * 1e3 - t0;
		log_debug("cache: watcher saw no change since the last check (%.2f ms): unchanged", c->check_ms);
		return 1;
	}
	gen = watch_generation(c->watcher);
	if (scan(c) != 0)
		return 0;
	same = fp_same_content(&c->last, &c->good);
	c->verified = same && c->watcher;
	c->verified_gen = gen;
	if (same && !fp_same_stat(&c->last, &c->good)) {
		/* Same contents under fresh stat data (touch, checkout): remember it so the next
		 * check takes the fast path again. */
		if (fp_copy(&c->good, &c->last) == 0)
			fp_save(c->file, &c->good, c->key);
	}
	c->check_ms = mono_seconds() * 1e3 - t0;
	log_debug("cache: %zu inputs, %zu hashed, %.1f ms: %s", c->last.n, c->last.hashed, c->check_ms,
		  same ? "unchanged" : "changed");
	return same;
}

static void build_started(void *ctx)
{
	struct cache *c = ctx;

	/* What the build reads: an edit from now on must make the next check differ. */
	c->verified = 0;
	c->building_gen = watch_generation(c->watcher);
	c->building_ok = scan(c) == 0 && fp_copy(&c->building, &c->last) == 0;
	if (!c->building_ok)
		fp_free(&c->building);
}

/*
 * Inputs the build wrote itself (watch.build_writes: Cargo.lock, go.sum) are taken as it left
 * them, so the next check does not rebuild for them. Everything else stays as the build-start
 * scan saw it (an edit during the build must still make the next check differ).
 */
static void take_build_writes(struct cache *c)
{
	struct patlist pl = {0};
	struct fp_set merged = {0};
	size_t i = 0, j = 0;
	int ok = 1;

	for (size_t k = 0; c->cfg->watch.build_writes[k]; k++)
		if (patlist_add(&pl, c->cfg->watch.build_writes[k]) != 0)
			goto out;
	if (scan(c) != 0)
		goto out;
	while (ok && (i < c->good.n || j < c->last.n)) {
		int cmp = i == c->good.n ? 1 : j == c->last.n ? -1 : strcmp(c->good.v[i].path, c->last.v[j].path);
		const struct fp_entry *pre = cmp <= 0 ? &c->good.v[i] : NULL, *post = cmp >= 0 ? &c->last.v[j] : NULL;
		const char *path = pre ? pre->path : post->path;
		const struct fp_entry *take = patlist_match(&pl, path, 0) > 0 ? post : pre;

		if (take)
			ok = fp_append(&merged, take) == 0;
		i += pre != NULL;
		j += post != NULL;
	}
	if (ok)
		fp_move(&c->good, &merged);
out:
	fp_free(&merged);
	patlist_free(&pl);
}

static void build_succeeded(void *ctx)
{
	struct cache *c = ctx;

	c->verified = 0;
	if (!c->building_ok) {
		c->have_good = 0; /* unknown inputs: never skip the next build */
		return;
	}
	c->building_ok = 0;
	fp_move(&c->good, &c->building);
	c->have_good = 1;
	if (c->cfg->watch.build_writes)
		take_build_writes(c);
	/* The inputs are what the build-start scan saw: the watcher vouches from that count on. */
	c->verified = c->watcher != NULL;
	c->verified_gen = c->building_gen;
	fp_save(c->file, &c->good, c->key);
}

int cache_start(struct cache **out, struct supervisor *sv)
{
	struct config *cfg = sv->cfg;
	struct cache *c;
	XXH3_state_t *st;
	char id[2 * PATH_MAX];
	const char *rel;
	int rc;

	*out = NULL;
	if (!cfg->build)
		return 0;
	if (!(c = calloc(1, sizeof *c)) || !(st = XXH3_createState())) {
		free(c);
		log_error("cache: out of memory");
		return -1;
	}
	c->sv = sv;
	c->cfg = cfg;
	if (ignore_init(&c->ig, cfg->dir, cfg->watch.exclude, cfg->cache.inputs ? cfg->cache.inputs : cfg->watch.include,
			cfg->watch.gitignore) != 0 ||
	    ignore_defaults(&c->ig, cfg) != 0)
		goto oom;
	if ((rel = path_rel(cfg->dir, cfg->cache.dir)))
		ignore_add_extra(&c->ig, rel);
	for (size_t i = 0; cfg->cache.outputs && cfg->cache.outputs[i]; i++) {
		const char *o = cfg->cache.outputs[i];

		ignore_add_extra(&c->ig, o[0] == '/' ? path_rel(cfg->dir, o) : o);
	}
	c->roots = cfg->cache.inputs ? NULL : cfg->watch.paths;

	/* The entry is per service (dir) and build command; the key inside also covers env and globs. */
	snprintf(id, sizeof id, "%s/%016llx/fingerprint", cfg->cache.dir,
		 (unsigned long long)XXH3_64bits_withSeed(cfg->dir, strlen(cfg->dir), XXH3_64bits(cfg->build, strlen(cfg->build))));
	if (!(c->file = strdup(id)))
		goto oom;
	XXH3_64bits_reset(st);
	XXH3_64bits_update(st, cfg->dir, strlen(cfg->dir) + 1);
	XXH3_64bits_update(st, cfg->build, strlen(cfg->build) + 1);
	hash_list(st, cfg->env);
	hash_list(st, cfg->watch.paths);
	hash_list(st, cfg->watch.include);
	hash_list(st, cfg->watch.exclude);
	hash_list(st, cfg->cache.inputs);
	hash_list(st, cfg->cache.outputs);
	XXH3_64bits_update(st, &cfg->watch.gitignore, sizeof cfg->watch.gitignore);
	c->key = XXH3_64bits_digest(st);
	XXH3_freeState(st);

	rc = fp_load(c->file, &c->good, c->key);
	c->have_good = rc == 0;
	if (rc < 0)
		log_warn("cache: %s is damaged or from another version; the next build will replace it", c->file);
	else if (rc == 0)
		log_debug("cache: loaded %zu inputs of the last good build from %s", c->good.n, c->file);

	sv->cache.up_to_date = up_to_date;
	sv->cache.build_started = build_started;
	sv->cache.build_succeeded = build_succeeded;
	sv->cache.ctx = c;
	*out = c;
	return 0;
oom:
	XXH3_freeState(st);
	cache_stop(c);
	log_error("cache: out of memory");
	return -1;
}

void cache_use_watcher(struct cache *c, struct watcher *w)
{
	if (c && !c->cfg->cache.inputs)
		c->watcher = w;
}

void cache_stop(struct cache *c)
{
	if (!c)
		return;
	if (c->sv && c->sv->cache.ctx == c)
		memset(&c->sv->cache, 0, sizeof c->sv->cache);
	ignore_free(&c->ig);
	fp_free(&c->good);
	fp_free(&c->last);
	fp_free(&c->building);
	free(c->file);
	free(c);
}

double cache_last_check_ms(const struct cache *c) { return c ? c->check_ms : 0; }
