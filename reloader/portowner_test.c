/* portowner_test.c — the LISTEN sockets on a port (asked over sock_diag where the kernel has it): the bound
 * address honoured, a wildcard matching any, a closed port has none; the owner of a listener is this process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portowner.h"

/* A listener on 127.0.0.1 (or any address), an ephemeral port; its port in *port, its inode in *ino. */
static int listener(int loopback, unsigned *port, unsigned long *ino)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(loopback ? INADDR_LOOPBACK : INADDR_ANY)};
	socklen_t len = sizeof a;
	struct stat st;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(fstat(fd, &st), 0);
	*port = ntohs(a.sin_port);
	*ino = (unsigned long)st.st_ino;
	return fd;
}

static void test_listener_found_and_owned(void **state)
{
	unsigned long inodes[4], ino;
	unsigned port;
	char text[16], why[256];
	int fd = listener(1, &port, &ino), unreadable;

	(void)state;
	assert_int_equal(port_listeners("127.0.0.1", port, inodes, 4), 1);
	assert_int_equal(inodes[0], ino);
	/* bound to 127.0.0.1: another IPv4 address does not match it */
	assert_int_equal(port_listeners("10.1.2.3", port, inodes, 4), 0);
	assert_int_equal(port_owner(inodes, 1, NULL, 0, &unreadable), getpid());
	snprintf(text, sizeof text, "%u", port);
	assert_int_equal(port_check_free("127.0.0.1", text, why, sizeof why), -1);
	assert_non_null(strstr(why, "is already held by pid"));
	close(fd);
	assert_int_equal(port_listeners("127.0.0.1", port, inodes, 4), 0);
	assert_int_equal(port_check_free("127.0.0.1", text, why, sizeof why), 0);
}

static void test_wildcard_matches_any_address(void **state)
{
	unsigned long inodes[4], ino;
	unsigned port;
	int fd = listener(0, &port, &ino);

	(void)state;
	assert_int_equal(port_listeners("10.1.2.3", port, inodes, 4), 1);
	assert_int_equal(inodes[0], ino);
	assert_int_equal(port_listeners(NULL, port, inodes, 4), 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_found_and_owned),
		cmocka_unit_test(test_wildcard_matches_any_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
