/* jsontext.c — JSON strings from arbitrary output bytes: invalid UTF-8 replaced, NUL kept (escaped). */
#include "jsontext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes there are not one. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	/* overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

json_t *jsontext_string(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(len * 3 + 1); /* each bad byte grows to three (EF BF BD) */
	size_t n = 0;
	json_t *j;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq(p + i, len - i);

		if (k) {
			memcpy(out + n, p + i, k);
			n += k;
			i += k;
		} else {
			memcpy(out + n, "\xEF\xBF\xBD", 3);
			n += 3;
			i++;
		}
	}
	j = json_stringn(out, n);
	free(out);
	return j;
}

json_t *jsontext_lines(const char *s, size_t len)
{
	json_t *lines = json_array();

	while (lines && len) {
		const char *nl = memchr(s, '\n', len);
		size_t take = nl ? (size_t)(nl - s) : len;

		json_array_append_new(lines, jsontext_string(s, take));
		take += nl ? 1 : 0;
		s += take;
		len -= take;
	}
	return lines;
}
