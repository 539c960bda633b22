/* fuzz_lease.c — libFuzzer target for what the agent decodes from the cluster: a Lease's renewTime (lease.c) and the bundle's base64 (common/base64.c); never a crash or leak, and base64 round-trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	(void)lease_parse_time(s);
	size_t n = 0;
	unsigned char *dec = base64_decode(s, &n);
	free(dec);
	/* any bytes: encoded, then decoded, are the same bytes */
	char *enc = base64_encode(data, size);
	if (enc) {
		unsigned char *back = base64_decode(enc, &n);
		if (!back || n != size || (size && memcmp(back, data, size)))
			abort();
		free(back);
		free(enc);
	}
	free(s);
	return 0;
}
