/* pidserver.c — the trivial TCP service the restart benchmark uses: answers each connection with its pid. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(getenv("PORT")))};
	char msg[32];
	int len = snprintf(msg, sizeof msg, "%d\n", (int)getpid());

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 64)) {
		perror("pidserver: bind");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		if (write(c, msg, (size_t)len) < 0)
			perror("pidserver: write");
		close(c);
	}
}
