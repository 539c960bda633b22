/* loopguard.h — stops a restart loop: too many file-triggered restarts in a window with no poke between them. */
#ifndef RL_LOOPGUARD_H
#define RL_LOOPGUARD_H

#include <ev.h>

#include "strmap.h"

struct loopguard {
	struct ev_loop *loop;
	long limit;          /* file-triggered restarts allowed per window (0: the guard is off) */
	double window;       /* seconds; also the quiet time after which a tripped guard lets go */
	double *t;           /* times of the recent file-triggered restarts (a ring of limit + 1) */
	size_t n, at;
	int tripped;
	unsigned long trips;
	struct strmap paths; /* path -> (intptr_t) how often it triggered a restart in this window */
	char why[512];       /* while tripped: the paths that kept changing, "a (11 times), b (3 times)" */
	ev_timer quiet;      /* a tripped guard lets go after `window` without a change */
	void (*released)(void *arg); /* called when the quiet time let it go */
	void *arg;
};

/* Returns 0, -1 on ENOMEM (the guard is then off). */
int lg_init(struct loopguard *g, struct ev_loop *loop, long limit, double window, void (*released)(void *arg),
	    void *arg);
/* A change to the paths in why ("a, b (+3 more)") wants a restart: 1 when the guard holds it back
 * (it trips now, logging the paths, or it is tripped: the quiet time starts again). */
int lg_blocks(struct loopguard *g, const char *why);
/* A cycle started: "watch" counts, "poke" and "signal" (someone asked) reset and let go. */
void lg_cycle(struct loopguard *g, const char *trigger);
void lg_free(struct loopguard *g);

#endif
