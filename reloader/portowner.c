/* portowner.c — who holds a listening TCP port: the kernel's sock_diag (else /proc/net/tcp{,6}) for the
 * socket, /proc/PID/fd for its owner. */
#include "portowner.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proc.h"

#define TCP_LISTEN 0x0A /* the kernel's TCP_LISTEN state: the st column of /proc/net/tcp, a sock_diag state bit */

/* Adds the inodes of LISTEN sockets on port of one address family, asked of the kernel over sock_diag (as
 * ss does): a dump of LISTEN sockets alone walks only the listening hash, where reading /proc/net/tcp walks
 * every bucket of the established hash too (about 5 ms a file on a 24 GiB machine, twice per restart).
 * host4 as in scan_table. -1 when sock_diag does not answer (no inet_diag in the kernel): read /proc. */
static int diag_table(int family, unsigned port, uint32_t host4, unsigned long *inodes, int n, int cap)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = {.nlmsg_len = sizeof req, .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.r = {.sdiag_family = (unsigned char)family, .sdiag_protocol = IPPROTO_TCP, .idiag_states = 1u << TCP_LISTEN},
	};
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -1;
	if (send(fd, &req, sizeof req, 0) != (ssize_t)sizeof req) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof buf, 0);

		if (len <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE) {
				close(fd);
				return n;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
				goto refused; /* NLMSG_ERROR: this kernel cannot dump that family */
			if (ntohs(m->id.idiag_sport) != port || !m->idiag_inode)
				continue;
			if (family == AF_INET && host4 && m->id.idiag_src[0] != 0 && m->id.idiag_src[0] != host4)
				continue;
			if (n < cap)
				inodes[n++] = m->idiag_inode;
		}
	}
refused:
	close(fd);
	return -1;
}

/* Adds the inodes of LISTEN sockets on port from one /proc/net file. host4: an IPv4 address in
 * network order that the listener must be bound to (or to the wildcard); 0 matches any. */
static int scan_table(const char *file, unsigned port, int v6, uint32_t host4, unsigned long *inodes, int n, int cap)
{
	FILE *f = fopen(file, "re");
	char line[512];

	if (!f)
		return n;
	if (!fgets(line, sizeof line, f)) { /* the header */
		fclose(f);
		return n;
	}
	while (fgets(line, sizeof line, f)) {
		char addr[64];
		unsigned lport, st;
		unsigned long inode;

		if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*s %*s %*s %*d %*d %lu", addr, &lport, &st,
			   &inode) != 4)
			continue;
		if (st != TCP_LISTEN || lport != port || !inode)
			continue;
		if (!v6 && host4) {
			/* The kernel prints the address as the hex of the in-memory 32-bit word. */
			uint32_t a = (uint32_t)strtoul(addr, NULL, 16);

			if (a != 0 && a != host4)
				continue;
		}
		if (n < cap)
			inodes[n++] = inode;
	}
	fclose(f);
	return n;
}

int port_listeners(const char *host, unsigned port, unsigned long *inodes, int cap)
{
	struct in_addr a4;
	uint32_t host4 = host && inet_pton(AF_INET, host, &a4) == 1 ? a4.s_addr : 0;
	int n = diag_table(AF_INET, port, host4, inodes, 0, cap);

	if (n >= 0 && (n = diag_table(AF_INET6, port, 0, inodes, n, cap)) >= 0)
		return n;
	n = scan_table("/proc/net/tcp", port, 0, host4, inodes, 0, cap);

	return scan_table("/proc/net/tcp6", port, 1, 0, inodes, n, cap);
}

/* 1 when pid has an fd on one of the sockets, 0 when not, -1 when its fds cannot be read. */
static int holds(pid_t pid, const unsigned long *inodes, int n)
{
	char dir[64];
	DIR *d;
	struct dirent *e;
	int found = 0;

	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	if (!(d = opendir(dir)))
		return errno == EACCES ? -1 : 0;
	while (!found && (e = readdir(d))) {
		char target[64];
		ssize_t len;
		unsigned long inode;

		if (e->d_name[0] == '.')
			continue;
		len = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
		if (len <= 0)
			continue;
		target[len] = 0;
		if (sscanf(target, "socket:[%lu]", &inode) != 1)
			continue;
		for (int i = 0; i < n && !found; i++)
			found = inodes[i] == inode;
	}
	closedir(d);
	return found;
}

pid_t port_owner(const unsigned long *inodes, int n, const pid_t *among, int n_among, int *unreadable)
{
	DIR *d;
	struct dirent *e;
	pid_t owner = 0;

	*unreadable = 0;
	if (among) {
		for (int i = 0; i < n_among; i++) {
			int h = holds(among[i], inodes, n);

			if (h > 0)
				return among[i];
			*unreadable |= h < 0;
		}
		return 0;
	}
	if (!(d = opendir("/proc")))
		return 0;
	while (!owner && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		int h;

		if (*end || pid <= 0)
			continue;
		h = holds((pid_t)pid, inodes, n);
		if (h > 0)
			owner = (pid_t)pid;
		*unreadable |= h < 0;
	}
	closedir(d);
	return owner;
}

void port_describe(pid_t pid, char *buf, size_t cap)
{
	char path[64], cmd[200] = "";
	FILE *f;
	size_t len = 0;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if ((f = fopen(path, "re"))) {
		len = fread(cmd, 1, sizeof cmd - 1, f);
		fclose(f);
	}
	while (len && !cmd[len - 1])
		len--;
	for (size_t i = 0; i < len; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	cmd[len] = 0;
	snprintf(buf, cap, "pid %d (%s)", (int)pid, *cmd ? cmd : "?");
}

int port_check_free(const char *host, const char *port_text, char *why, size_t cap)
{
	unsigned long inodes[16];
	char *end;
	unsigned long port = strtoul(port_text, &end, 10);
	int n, unreadable;
	pid_t owner;
	char who[256];

	if (*end || !port || port > 65535)
		return 0; /* a service name: nothing to look up */
	if (!(n = port_listeners(host, (unsigned)port, inodes, (int)(sizeof inodes / sizeof inodes[0]))))
		return 0;
	owner = port_owner(inodes, n, NULL, 0, &unreadable);
	if (owner)
		port_describe(owner, who, sizeof who);
	else
		snprintf(who, sizeof who, "a process reloader cannot inspect%s", unreadable ? " (another user's)" : "");
	snprintf(why, cap, "port %lu is already held by %s: the new service could not listen there and readiness "
		 "would be answered by the wrong process; stop it or change the port", port, who);
	return -1;
}

int port_check_ours(const char *host, const char *port_text, char *why, size_t cap)
{
	unsigned long inodes[16];
	pid_t ours[512];
	char *end;
	unsigned long port = strtoul(port_text, &end, 10);
	int n, n_ours, unreadable;
	pid_t owner;
	char who[256];

	if (*end || !port || port > 65535)
		return 0;
	if (!(n = port_listeners(host, (unsigned)port, inodes, (int)(sizeof inodes / sizeof inodes[0]))))
		return 0; /* not a local listener (another host or network namespace): nothing to compare */
	n_ours = proc_descendants(ours, (int)(sizeof ours / sizeof ours[0]), 0);
	if (n_ours > (int)(sizeof ours / sizeof ours[0]))
		n_ours = (int)(sizeof ours / sizeof ours[0]);
	if (port_owner(inodes, n, ours, n_ours, &unreadable) || unreadable)
		return 0; /* ours, or a descendant we may not inspect (it changed user): trust it */
	owner = port_owner(inodes, n, NULL, 0, &unreadable);
	if (!owner)
		return 0; /* the listener went away meanwhile; the next attempt tells */
	port_describe(owner, who, sizeof who);
	snprintf(why, cap, "port %lu is answered by %s, not by the new service", port, who);
	return -1;
}
