/* signals.h — reloader's signal policy: TERM/INT stop, HUP restarts, the rest go to the service. */
#ifndef RL_SIGNALS_H
#define RL_SIGNALS_H

#include <ev.h>

#include "supervise.h"

/* Installs ev_signal watchers on the default loop. Returns 0 or -1 after logging. */
int signals_start(struct ev_loop *loop, struct supervisor *sv);
void signals_stop(struct ev_loop *loop);

#endif
