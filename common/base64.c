/* base64.c — base64 encoding for the agent: one library call (OpenSSL, which the agent links already). */
#include "base64.h"

#include <stdlib.h>

#include <openssl/evp.h>

char *base64_encode(const void *in, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	/* EVP_EncodeBlock takes an int length; the agent's inputs (certificates, Secret values,
	 * template strings) are far below that */
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}
