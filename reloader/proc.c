/* proc.c — starting processes in their own group, and finding every descendant of reloader. */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

extern char **environ;

/* reloader's environment plus extra (extra wins). Only the array is allocated. */
static char **merged_env(char *const extra[])
{
	size_t n = 0, m = 0, k = 0;
	char **out;

	while (environ[n])
		n++;
	while (extra && extra[m])
		m++;
	out = calloc(n + m + 1, sizeof *out);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int overridden = 0;

		for (size_t j = 0; j < m && !overridden; j++)
			overridden = !strncmp(extra[j], environ[i], len) && extra[j][len] == '=';
		if (!overridden)
			out[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		out[k++] = extra[j];
	return out;
}

pid_t proc_spawn(char *const argv[], const char *dir, char *const env[], int out_fd, int err_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char **envp = merged_env(env);
	pid_t pid = -1;
	int rc;

	if (!envp)
		return -1;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	/* Own process group, empty signal mask, every signal back to its default action. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (dir)
		posix_spawn_file_actions_addchdir_np(&fa, dir);
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(envp);
	if (rc != 0) {
		log_error("cannot start %s: %s%s", argv[0], strerror(rc),
			  rc == ENOENT ? " (is it installed and on PATH, or is dir right?)" : "");
		return -1;
	}
	return pid;
}

struct proc_entry {
	pid_t pid, ppid, pgid;
	char state;
};

/* Reads pid, state, ppid and pgrp of every process. Returns a malloc'd array, *n entries. */
static struct proc_entry *read_procs(int *n)
{
	DIR *d = opendir("/proc");
	struct proc_entry *list = NULL;
	int cap = 0;
	struct dirent *de;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char path[300], buf[512], *rparen;
		struct proc_entry e;
		ssize_t len;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue; /* gone meanwhile */
		len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		/* The command name may hold spaces and parentheses: parse after the last ')'. */
		rparen = strrchr(buf, ')');
		if (!rparen || sscanf(rparen + 1, " %c %d %d", &e.state, &e.ppid, &e.pgid) != 3)
			continue;
		e.pid = atoi(de->d_name);
		if (*n == cap) {
			struct proc_entry *bigger = realloc(list, (size_t)(cap = cap ? cap * 2 : 256) * sizeof *list);

			if (!bigger)
				break;
			list = bigger;
		}
		list[(*n)++] = e;
	}
	closedir(d);
	return list;
}

int proc_descendants(pid_t *out, int cap, pid_t except_pgid)
{
	int n, found = 0, changed = 1;
	struct proc_entry *list = read_procs(&n);
	char *mine = calloc((size_t)n + 1, 1);
	pid_t self = getpid();

	if (!mine) {
		free(list);
		return 0;
	}
	/* Mark children of self, then their children, until nothing changes. */
	while (changed) {
		changed = 0;
		for (int i = 0; i < n; i++) {
			if (mine[i])
				continue;
			if (list[i].ppid == self)
				mine[i] = changed = 1;
			else
				for (int j = 0; j < n; j++)
					if (mine[j] && list[j].pid == list[i].ppid) {
						mine[i] = changed = 1;
						break;
					}
		}
	}
	for (int i = 0; i < n; i++) {
		if (!mine[i] || list[i].state == 'Z' || list[i].state == 'X')
			continue;
		if (except_pgid > 0 && list[i].pgid == except_pgid)
			continue;
		if (found < cap)
			out[found] = list[i].pid;
		found++;
	}
	free(mine);
	free(list);
	return found;
}

int proc_signal_tree(pid_t pgid, int sig, pid_t except_pgid)
{
	pid_t pids[4096];
	int n;

	if (pgid > 0 && kill(-pgid, sig) != 0 && errno != ESRCH)
		log_warn("signalling process group %d: %s", (int)pgid, strerror(errno));
	n = proc_descendants(pids, (int)(sizeof pids / sizeof pids[0]), except_pgid);
	for (int i = 0; i < n && i < (int)(sizeof pids / sizeof pids[0]); i++)
		if (kill(pids[i], sig) != 0 && errno != ESRCH) /* ESRCH: it exited meanwhile */
			log_warn("signalling process %d: %s", (int)pids[i], strerror(errno));
	return n;
}

int proc_zombie_children(void)
{
	int n, zombies = 0;
	struct proc_entry *list = read_procs(&n);
	pid_t self = getpid();

	for (int i = 0; i < n; i++)
		zombies += list[i].ppid == self && list[i].state == 'Z';
	free(list);
	return zombies;
}

int proc_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory stream's own fd */
}

long proc_peak_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}
