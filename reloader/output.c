/* output.c — a child's stdout/stderr pipe, passed through line by line (optionally prefixed) into logs. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"

static void write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* our stdout is gone: keep running, the rings still have it */
		data += n;
		len -= (size_t)n;
	}
}

static void emit_line(struct output_pipe *p, const char *line, size_t len)
{
	if (*p->prefix) {
		if (p->color && log_color()) {
			write_all(p->to_fd, p->color, strlen(p->color));
			write_all(p->to_fd, p->prefix, strlen(p->prefix));
			write_all(p->to_fd, "\033[0m", 4);
		} else {
			write_all(p->to_fd, p->prefix, strlen(p->prefix));
		}
	}
	write_all(p->to_fd, line, len);
	for (int i = 0; i < 2; i++)
		if (p->rings[i]) {
			if (*p->prefix)
				logring_append(p->rings[i], p->prefix, strlen(p->prefix));
			logring_append(p->rings[i], line, len);
		}
}

/* Splits buf into lines; keeps an unterminated tail in p->partial. */
static void feed(struct output_pipe *p, const char *buf, size_t len)
{
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t take = nl ? (size_t)(nl - buf) + 1 : len;

		if (!nl && p->partial_len + take < sizeof p->partial) {
			memcpy(p->partial + p->partial_len, buf, take);
			p->partial_len += take;
			return;
		}
		if (p->partial_len) {
			/* Complete the waiting line (or flush it when too long). */
			size_t room = sizeof p->partial - p->partial_len;
			size_t part = take < room ? take : room;

			memcpy(p->partial + p->partial_len, buf, part);
			emit_line(p, p->partial, p->partial_len + part);
			p->partial_len = 0;
			buf += part;
			len -= part;
			continue;
		}
		emit_line(p, buf, take);
		buf += take;
		len -= take;
	}
}

static void output_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct output_pipe *p = w->data;
	char buf[16384];
	ssize_t n = read(w->fd, buf, sizeof buf);

	(void)revents;
	if (n > 0) {
		feed(p, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	output_pipe_close(p, loop);
}

int output_pipe_open(struct output_pipe *p, struct ev_loop *loop, int to_fd, const char *prefix)
{
	int fds[2];

	(void)loop;
	p->partial_len = 0;
	p->to_fd = to_fd;
	p->prefix = prefix ? prefix : "";
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	p->child_fd = fds[1];
	ev_io_init(&p->io, output_read_cb, fds[0], EV_READ);
	p->io.data = p;
	p->open = 1;
	return 0;
}

void output_pipe_started(struct output_pipe *p, struct ev_loop *loop)
{
	if (p->child_fd >= 0)
		close(p->child_fd);
	p->child_fd = -1;
	ev_io_start(loop, &p->io);
}

void output_pipe_close(struct output_pipe *p, struct ev_loop *loop)
{
	char buf[16384];
	ssize_t n;

	if (!p->open)
		return;
	while ((n = read(p->io.fd, buf, sizeof buf)) > 0)
		feed(p, buf, (size_t)n);
	if (p->partial_len) {
		p->partial[p->partial_len] = '\n'; /* room is kept: partial_len < sizeof partial */
		emit_line(p, p->partial, p->partial_len + 1);
		p->partial_len = 0;
	}
	ev_io_stop(loop, &p->io);
	close(p->io.fd);
	if (p->child_fd >= 0)
		close(p->child_fd);
	p->child_fd = -1;
	p->open = 0;
}
