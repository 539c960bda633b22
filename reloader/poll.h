/* poll.h — polling watcher: stats only the watched directories and their files, on a libev timer. */
#ifndef RL_POLL_H
#define RL_POLL_H

#include <ev.h>

#include "glob.h"
#include "strmap.h"

/* Called on the loop thread for each change found: rel is the changed path (relative to root). */
typedef void (*poll_change_cb)(const char *rel, void *arg);

struct poller {
	struct ignore *ig;   /* decides what is polled; owned by the caller */
	struct strmap dirs;  /* rel dir -> struct pdir * */
	size_t files;        /* files being stat'ed each tick */
	ev_timer timer;      /* runs only while dirs is non-empty */
	struct ev_loop *loop;
	double interval;
	poll_change_cb cb;
	void *arg;
};

void poll_init(struct poller *p, struct ev_loop *loop, struct ignore *ig, double interval, poll_change_cb cb,
	       void *arg);
/* Polls rel and every directory below it that ig does not prune (and its files); snapshots them now,
 * so only later changes are reported. Starts the timer. Returns the number of directories added. */
size_t poll_add_tree(struct poller *p, const char *rel);
/* One pass over every polled directory (the timer calls it). */
void poll_tick(struct poller *p);
void poll_free(struct poller *p);

#endif
