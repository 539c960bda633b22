/* base64.c — base64 encoding for the agent: one library call (OpenSSL, which the agent links already). */
#include "base64.h"

#include <stdlib.h>
#include <string.h>

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

unsigned char *base64_decode(const char *in, size_t *n)
{
	size_t len = strlen(in);
	while (len && (in[len - 1] == '\n' || in[len - 1] == '\r' || in[len - 1] == ' '))
		len--;
	if (len % 4 || len > (size_t)1 << 30)
		return NULL;
	unsigned char *out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	int got = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (got < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as bytes: take them back off */
	size_t m = (size_t)got;
	for (size_t i = len; i && in[i - 1] == '=' && m; i--)
		m--;
	*n = m;
	return out;
}
