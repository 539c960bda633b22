/* runcmd.h — runs a helper program (tar, git) and collects what it prints: up's bundle and git checks. */
#ifndef SM_RUNCMD_H
#define SM_RUNCMD_H

#include <stddef.h>

/* The outcome of one run; the buffers are malloc'd and NUL-terminated (runcmd_free). */
struct runcmd {
	char *out; /* stdout (up to the cap given) */
	size_t out_len;
	int truncated; /* stdout was longer than the cap: the rest was read and dropped */
	char *err;     /* stderr (its last 16 KiB) */
	int status;    /* exit status, 128+N for signal N, 127 when the program could not be run */
};

/*
 * Runs argv[0] (looked up in PATH) with argv, its stdin /dev/null, its environment ours plus env
 * ("NAME=value" entries, NULL-terminated, may be NULL). Returns 0 when it ran (whatever its status),
 * -1 when it could not be started (r->err says why).
 */
int runcmd(const char *const *argv, const char *const *env, size_t out_cap, struct runcmd *r);
void runcmd_free(struct runcmd *r);

/* The line of a helper's stderr that says what went wrong: git's first "fatal: " line, else its first
 * "error: " line (the first names the cause; what follows is consequence and advice), else the last
 * non-empty line (tar's way); the prefix and a final full stop dropped. "" when there is none. */
void runcmd_reason(const char *err, char *out, size_t cap);

#endif
