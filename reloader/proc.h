/* proc.h — starting processes in their own group, and finding every descendant of reloader. */
#ifndef RL_PROC_H
#define RL_PROC_H

#include <sys/types.h>

/*
 * Starts argv in dir as the leader of a new process group, with default signal handling,
 * stdin from /dev/null, stdout/stderr on out_fd/err_fd, and env entries ("NAME=value")
 * added to reloader's environment. Exec failures are reported synchronously.
 * Returns the pid, or -1 after logging why.
 */
pid_t proc_spawn(char *const argv[], const char *dir, char *const env[], int out_fd, int err_fd);

/*
 * Lists the live (non-zombie) descendants of this process, read from /proc. Fills up to
 * cap pids into out and returns how many there are in total (may exceed cap).
 * except_pgid > 0 leaves out members of that process group (a running build).
 */
int proc_descendants(pid_t *out, int cap, pid_t except_pgid);

/* Sends sig to the group pgid and to every live descendant outside except_pgid.
 * Returns how many descendants were signalled. */
int proc_signal_tree(pid_t pgid, int sig, pid_t except_pgid);

/* Counts zombie children waiting to be reaped (for tests and /status). */
int proc_zombie_children(void);

/* Number of open file descriptors of this process. */
int proc_open_fds(void);

/* Peak resident set size of this process in kB (VmHWM), -1 if unknown. */
long proc_peak_rss_kb(void);

#endif
