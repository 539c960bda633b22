/* fuzz_liberror.c — libFuzzer target for the library's error positions (agent/lib/liberror.c): any message
 * gives an error whose message is the input and whose file, when set, is the text before the position,
 * with a positive line. Never a crash or a leak. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "liberror.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = strndup((const char *)data, size); /* a message ends at its first NUL */
	if (!msg)
		return 0;
	appdeploy_error *e = liberror_from_message(msg);
	if (e) {
		assert(!strcmp(e->message, msg));
		if (e->file) {
			const char *s = strncmp(msg, "template: ", 10) ? msg : msg + 10;
			size_t n = strlen(e->file);
			assert(n && !strncmp(s, e->file, n) && s[n] == ':');
			assert(e->line >= 0 && e->col >= 0);
		} else
			assert(!e->line && !e->col);
	}
	appdeploy_error_free(e);
	free(msg);
	return 0;
}
