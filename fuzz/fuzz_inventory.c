/* fuzz_inventory.c — libFuzzer target for the set inventory's text and the git config reader (agent/deploy/ownership.c): no crash, no leak, a stable round trip. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ownership.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	/* the inventory read back from a cluster anyone with edit rights may have changed */
	struct own_entry *v = NULL;
	size_t n = 0;
	own_entries_parse(text, &v, &n);
	char *once = own_entries_text(v, n);
	struct own_entry *w = NULL;
	size_t m = 0;
	own_entries_parse(once, &w, &m);
	char *twice = own_entries_text(w, m);
	if (m != n || strcmp(once, twice))
		abort(); /* what we write must read back as itself */
	free(once);
	free(twice);
	own_entries_free(v, n);
	own_entries_free(w, m);
	/* the same bytes as a git config: the origin never keeps credentials */
	char *url = own_git_remote_url(text);
	if (url && strstr(url, "://")) {
		const char *host = strstr(url, "://") + 3, *at = strchr(host, '@'), *slash = strchr(host, '/');
		if (at && (!slash || at < slash))
			abort();
	}
	free(url);
	free(text);
	return 0;
}
