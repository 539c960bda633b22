/* fuzz_kubeconfig.c — libFuzzer target for kubeconfig parsing (agent/kube/kubeconfig.c): any bytes, never a crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_config cfg;
	struct sm_error se = {.msg = ""};
	const char *err = se.msg;
	/* the first byte picks a context name or none, so both lookups are exercised */
	const char *ctx = size && data[0] & 1 ? "c" : NULL;
	if (kubeconfig_load_text((const char *)data, size, "/fuzz/config", ctx, &cfg, &se) == 0)
		kubeconfig_free(&cfg);
	else if (!err[0])
		abort(); /* every failure must say why */
	return 0;
}
