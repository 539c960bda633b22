/* control.h — the HTTP control API of reloader, on the libev loop. */
#ifndef RL_CONTROL_H
#define RL_CONTROL_H

#include <ev.h>

#include "supervise.h"

struct control;

/* Listens on cfg->control.listen. Returns NULL when the API is off ("none") or after
 * logging why it could not listen (the caller tells the two apart by the config). */
struct control *control_start(struct ev_loop *loop, struct supervisor *sv);
/* Closes every connection and frees the server. NULL is fine. */
void control_stop(struct control *ctl);

#endif
