/* fuzz_execcred.c — libFuzzer target for exec plugin answers (agent/kube/execcred.c): any bytes, never a crash, a leak or a quoted secret. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execcred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte picks the apiVersion asked for, so both are exercised */
	const char *av = size && data[0] & 1 ? "client.authentication.k8s.io/v1" : "client.authentication.k8s.io/v1beta1";
	struct execcred c;
	struct sm_error se = {.msg = ""};
	const char *err = se.msg;
	if (execcred_parse((const char *)data, size, av, &c, &se) == 0)
		execcred_clear(&c);
	else if (!err[0])
		abort(); /* every failure must say why */
	char *s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = 0;
		double t;
		execcred_parse_time(s, &t);
		free(s);
	}
	return 0;
}
