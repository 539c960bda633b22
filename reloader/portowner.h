/* portowner.h — who holds a listening TCP port: sock_diag (else /proc/net/tcp{,6}) for the socket, /proc/PID/fd
 * for its owner. */
#ifndef RL_PORTOWNER_H
#define RL_PORTOWNER_H

#include <stddef.h>
#include <sys/types.h>

/* Inodes of the LISTEN sockets on port (bound to host, when it is an IPv4 address, or to a
 * wildcard address; IPv6 listeners on any address). Fills up to cap, returns how many. */
int port_listeners(const char *host, unsigned port, unsigned long *inodes, int cap);

/* The process holding one of the sockets: searched among the n_among pids given, or in every
 * process when among is NULL. 0 when none is found; *unreadable says some fds could not be read. */
pid_t port_owner(const unsigned long *inodes, int n, const pid_t *among, int n_among, int *unreadable);

/* "pid 123 (python3 srv.py)" into buf. */
void port_describe(pid_t pid, char *buf, size_t cap);

/* Before a start: 0 when nobody listens on host:port, else -1 with a message naming the holder. */
int port_check_free(const char *host, const char *port, char *why, size_t cap);

/* After a readiness check connected: 0 when the listener belongs to reloader's descendants (or
 * cannot be told apart), -1 with a message naming the other process that answered. */
int port_check_ours(const char *host, const char *port, char *why, size_t cap);

#endif
