/* encoding.c — sprig's base64 functions (b64enc, b64dec; in sprig's functions.go/strings.go); b32 is in strings.c. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "sprig.h"
#include "base64.h"
#include "tmpl_node.h"

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int tfx_b64enc(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char *e = base64_encode(S(a[0]), SL(a[0]));
	if (!e)
		return tf_fail(c, "out of memory");
	int rc = tf_ret_str(c, e, strlen(e));
	free(e);
	return rc;
}

/* base64.StdEncoding.DecodeString, quantum by quantum, so errors name the same offset Go's decoder does:
 * CR/LF are skipped, a short final quantum is corrupt at its start, padding must complete it exactly. */
int tfx_b64dec(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *s = S(a[0]);
	size_t len = SL(a[0]), si = 0, bad = (size_t)-1;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	while (si < len && bad == (size_t)-1) {
		unsigned q[4] = {0};
		int j, dlen = 4;
		for (j = 0; j < 4; j++) {
			if (si == len) {
				if (j > 0)
					bad = si - (size_t)j;
				dlen = j;
				break;
			}
			char in = s[si++];
			const char *p = in ? strchr(B64, in) : NULL;
			if (p) {
				q[j] = (unsigned)(p - B64);
				continue;
			}
			if (in == '\n' || in == '\r') {
				j--;
				continue;
			}
			if (in != '=' || j < 2) {
				bad = si - 1;
				break;
			}
			if (j == 2) { /* a second '=' must follow, newlines aside */
				while (si < len && (s[si] == '\n' || s[si] == '\r'))
					si++;
				if (si == len || s[si] != '=') {
					bad = si == len ? len : si - 1;
					break;
				}
				si++;
			}
			while (si < len && (s[si] == '\n' || s[si] == '\r'))
				si++;
			if (si < len)
				bad = si; /* trailing garbage */
			dlen = j;
			break;
		}
		if (bad != (size_t)-1)
			break;
		unsigned v = q[0] << 18 | q[1] << 12 | q[2] << 6 | q[3];
		for (int k = 0; k + 1 < dlen; k++)
			sb_putc(&b, (char)((v >> (16 - 8 * k)) & 0xFF));
	}
	if (bad == (size_t)-1)
		return sprig_ret_sbuf(c, &b);
	/* sprig returns the decoder's error text as the result */
	free(b.s);
	char msg[64];
	snprintf(msg, sizeof msg, "illegal base64 data at input byte %zu", bad);
	return tf_ret_str(c, msg, strlen(msg));
}
