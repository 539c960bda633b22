/* loopguard.c — the loop guard: counts file-triggered restarts, trips, names the files, lets go on a poke or quiet. */
#include "loopguard.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void reset(struct loopguard *g)
{
	g->n = g->at = 0;
	strmap_free(&g->paths, NULL);
}

static void quiet_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct loopguard *g = t->data;

	(void)loop;
	(void)revents;
	g->tripped = 0;
	reset(g);
	if (g->released)
		g->released(g->arg);
	log_info("watch: loop guard released after %.0f s without file changes; file changes restart the service again",
		 g->window);
}

int lg_init(struct loopguard *g, struct ev_loop *loop, long limit, double window, void (*released)(void *arg),
	    void *arg)
{
	memset(g, 0, sizeof *g);
	g->loop = loop;
	g->window = window;
	g->released = released;
	g->arg = arg;
	ev_timer_init(&g->quiet, quiet_cb, 0, 0);
	g->quiet.data = g;
	if (limit > 0 && !(g->t = calloc((size_t)limit + 1, sizeof *g->t)))
		return -1;
	g->limit = limit;
	return 0;
}

static void note_paths(struct loopguard *g, const char *why)
{
	char buf[320], *save = NULL;

	snprintf(buf, sizeof buf, "%s", why);
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ')
			p++;
		if (*p == '(' || !*p)
			continue;
		intptr_t n = (intptr_t)strmap_get(&g->paths, p);

		if (n || g->paths.n < 64)
			strmap_put(&g->paths, p, (void *)(n + 1), NULL);
	}
}

struct top_paths {
	char *out;
	size_t cap, len;
	intptr_t min;
};

static void add_top(const char *key, void *val, void *arg)
{
	struct top_paths *t = arg;

	if ((intptr_t)val >= t->min && t->len + strlen(key) + 24 < t->cap)
		t->len += (size_t)snprintf(t->out + t->len, t->cap - t->len, "%s%s (%ld times)", t->len ? ", " : "", key,
					   (long)(intptr_t)val);
}

int lg_blocks(struct loopguard *g, const char *why)
{
	double now = ev_now(g->loop);
	size_t recent = 0;

	if (g->limit <= 0)
		return 0;
	if (g->tripped) {
		ev_timer_stop(g->loop, &g->quiet);
		ev_timer_set(&g->quiet, g->window, 0);
		ev_timer_start(g->loop, &g->quiet);
		log_debug("watch: %s changed; held by the loop guard", why);
		return 1;
	}
	note_paths(g, why);
	for (size_t i = 0; i < g->n; i++)
		recent += g->t[i] > now - g->window;
	if ((long)recent < g->limit)
		return 0;
	{
		/* the files that triggered more than once first; else every one */
		struct top_paths t = {.out = g->why, .cap = sizeof g->why, .min = 2};

		g->why[0] = '\0';
		strmap_each(&g->paths, add_top, &t);
		if (!t.len) {
			t.min = 1;
			strmap_each(&g->paths, add_top, &t);
		}
	}
	g->tripped = 1;
	g->trips++;
	log_warn("watch: loop guard: %zu restarts from file changes within %.0f s and no poke; file changes no longer "
		 "restart the service until a poke (POST /restart) or %.0f s without changes. Files that kept changing: "
		 "%s. If the service writes them itself, list them in watch.data (or raise watch.loop_limit)",
		 recent, g->window, g->window, *g->why ? g->why : why);
	ev_timer_set(&g->quiet, g->window, 0);
	ev_timer_start(g->loop, &g->quiet);
	return 1;
}

void lg_cycle(struct loopguard *g, const char *trigger)
{
	if (strcmp(trigger, "watch") == 0 && g->t) {
		g->t[g->at] = ev_now(g->loop);
		g->at = (g->at + 1) % (size_t)(g->limit + 1);
		if (g->n < (size_t)g->limit + 1)
			g->n++;
	} else if (strcmp(trigger, "poke") == 0 || strcmp(trigger, "signal") == 0 || strcmp(trigger, "sync") == 0) {
		/* an explicit action of the developer, as a poke is (a sync push: syncapi.c) */
		if (g->tripped)
			log_info("watch: loop guard released by a %s; file changes restart the service again", trigger);
		g->tripped = 0;
		ev_timer_stop(g->loop, &g->quiet);
		reset(g);
	}
}

void lg_free(struct loopguard *g)
{
	if (g->loop)
		ev_timer_stop(g->loop, &g->quiet);
	strmap_free(&g->paths, NULL);
	free(g->t);
	g->t = NULL;
}
