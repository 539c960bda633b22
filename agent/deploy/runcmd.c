/* runcmd.c — fork/exec of a helper program with its stdout and stderr collected (runcmd.h). */
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define ERR_KEEP (16 * 1024)

static int append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t nc = *cap ? *cap : 4096;
		while (nc < *len + n + 1)
			nc *= 2;
		char *nb = realloc(*buf, nc);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = nc;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = 0;
	return 0;
}

void runcmd_free(struct runcmd *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof *r);
}

int runcmd(const char *const *argv, const char *const *env, size_t out_cap, struct runcmd *r)
{
	memset(r, 0, sizeof *r);
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	size_t ocap = 1, ecap = 1, elen = 0;
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		free(r->err);
		r->err = strdup(strerror(errno));
		return -1;
	}
	/* the environment: ours, then env's entries (replacing ours of the same name) */
	size_t n = 0, m = 0;
	while (environ[n])
		n++;
	while (env && env[m])
		m++;
	char **envp = calloc(n + m + 1, sizeof *envp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int replaced = 0;
		for (size_t j = 0; j < m && !replaced; j++)
			replaced = !strncmp(env[j], environ[i], nl) && env[j][nl] == '=';
		if (!replaced)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		envp[k++] = (char *)env[j];
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(po[1]);
	close(pe[1]);
	if (rc) {
		close(po[0]);
		close(pe[0]);
		free(r->err);
		if (asprintf(&r->err, "cannot run %s: %s", argv[0], strerror(rc)) < 0)
			r->err = NULL;
		r->status = 127;
		return -1;
	}
	struct pollfd fds[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
	char buf[65536];
	int open_fds = 2;
	while (open_fds) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(fds[i].fd, buf, sizeof buf);
			if (got <= 0) {
				if (got < 0 && errno == EINTR)
					continue;
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0) {
				size_t take = r->out_len >= out_cap                ? 0
					      : out_cap - r->out_len < (size_t)got ? out_cap - r->out_len
										   : (size_t)got;
				if (take < (size_t)got)
					r->truncated = 1;
				if (take)
					append(&r->out, &r->out_len, &ocap, buf, take);
			} else {
				append(&r->err, &elen, &ecap, buf, (size_t)got);
				if (elen > ERR_KEEP) { /* keep the tail: the last lines say what went wrong */
					memmove(r->err, r->err + elen - ERR_KEEP, ERR_KEEP + 1);
					elen = ERR_KEEP;
				}
			}
		}
	}
	int st = 0, w;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (w < 0) { /* someone else reaped it: its outcome is unknown, so it did not work */
		char why[160];
		snprintf(why, sizeof why, "\nerror: cannot wait for %s: %s\n", argv[0], strerror(errno));
		append(&r->err, &elen, &ecap, why, strlen(why));
		r->status = 1;
		return 0;
	}
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
	return 0;
}

void runcmd_reason(const char *err, char *out, size_t cap)
{
	static const char *const prefixes[] = {"fatal: ", "error: "}; /* by preference */
	const char *first[2] = {NULL, NULL}, *first_end[2] = {NULL, NULL}, *last = NULL, *last_end = NULL;

	for (const char *line = err ? err : ""; *line;) {
		const char *end = line + strcspn(line, "\n");
		const char *trim = end;
		while (trim > line && (trim[-1] == '\r' || trim[-1] == ' ' || trim[-1] == '.'))
			trim--; /* the reason goes inside a sentence: its own full stop dropped */
		if (trim > line) {
			last = line, last_end = trim;
			for (int i = 0; i < 2; i++)
				if (!first[i] && !strncmp(line, prefixes[i], strlen(prefixes[i])))
					first[i] = line + strlen(prefixes[i]), first_end[i] = trim;
		}
		line = *end ? end + 1 : end;
	}
	const char *pick = last, *pick_end = last_end;
	for (int i = 1; i >= 0; i--)
		if (first[i])
			pick = first[i], pick_end = first_end[i];
	int len = pick && pick_end > pick ? (int)(pick_end - pick) : 0; /* "fatal:" alone: nothing after it */
	snprintf(out, cap, "%.*s", len, len ? pick : "");
}
