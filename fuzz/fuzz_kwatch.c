/* fuzz_kwatch.c — libFuzzer target for watch streams (agent/kube/kwatchstream.c): newline-delimited events fed in pieces of any size. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kwatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kwatch_stream s = {.items = json_object()};
	/* the first byte picks the piece size: lines cut anywhere, as the network cuts them */
	size_t piece = size ? (size_t)data[0] % 64 + 1 : 1, off = size ? 1 : 0;
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;
		if (kwatch_stream_feed(&s, (const char *)data + off, n) < 0)
			break;
		off += n;
	}
	kwatch_stream_clear(&s);
	json_decref(s.items);
	return 0;
}
