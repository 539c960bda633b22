/* portowner.c — who holds a listening TCP port: /proc/net/tcp{,6} for the socket, /proc/PID/fd for its owner. */
#include "portowner.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define TCP_LISTEN 0x0A /* the st column of /proc/net/tcp */

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
	int n = scan_table("/proc/net/tcp", port, 0, host4, inodes, 0, cap);

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
