/* output.h — a child's stdout/stderr pipe, passed through line by line (optionally prefixed) into logs. */
#ifndef RL_OUTPUT_H
#define RL_OUTPUT_H

#include <ev.h>

#include "logring.h"

struct output_pipe {
	ev_io io;              /* readable end, watched while open */
	int child_fd;          /* write end for the child; closed by output_pipe_started */
	int to_fd;             /* where lines go (STDOUT_FILENO/STDERR_FILENO) */
	const char *prefix;    /* printed before each line ("" for none) */
	const char *color;     /* escape for the prefix on a terminal, NULL for none */
	struct logring *rings[2]; /* up to two rings that keep the lines (NULL entries skipped) */
	char partial[8192];    /* an unterminated line waiting for its end */
	size_t partial_len;
	int open;              /* 1 while the read end is open */
};

/* Makes the pipe (both ends close-on-exec; the child's end is dup2'd by proc_spawn).
 * Returns 0 or -1 after logging. */
int output_pipe_open(struct output_pipe *p, struct ev_loop *loop, int to_fd, const char *prefix);
/* Closes our copy of the child's end once the child has it, and starts reading. */
void output_pipe_started(struct output_pipe *p, struct ev_loop *loop);
/* Reads everything that is ready now, flushes a partial line, and closes. */
void output_pipe_close(struct output_pipe *p, struct ev_loop *loop);

#endif
