/* fuzz_discovery.c — libFuzzer target for discovery documents (agent/kube/discovery.c): aggregated lists, resource lists, cache files. */
#include <stddef.h>
#include <stdint.h>

#include "discovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kube_discovery_parse((const char *)data, size);
	return 0;
}
