/* toml.h — TOML 1.0 <-> jansson (Helm's toToml / fromToml, BurntSushi/toml's output and wording) and toYamlPretty. */
#ifndef SM_CHART_TOML_H
#define SM_CHART_TOML_H

#include <jansson.h>
#include <stddef.h>

#include "errbuf.h"

struct tmpl_call;

/* Where and why a TOML document was refused. */
struct toml_error {
	int line;       /* 1-based line of the error (of the end of input for an unexpected EOF) */
	int col;        /* 1-based byte column */
	int go_line;    /* the line BurntSushi/toml names: 0 for an unexpected EOF, as it prints */
	char key[256];  /* the key whose value was being read ("" when none), BurntSushi's "last key" */
	char msg[512];  /* BurntSushi/toml's message text */
};

/*
 * Parses a TOML document into a new object (the caller owns it). Integers are JSON integers, floats
 * reals; datetimes become strings the way Go's encoding/json prints a time.Time (RFC 3339, fraction
 * trimmed, "Z" for a zero offset; a local date gets T00:00:00Z, a local time the date 0000-01-01);
 * nan / inf, which JSON cannot hold, become the strings "NaN", "+Inf", "-Inf". Returns NULL with *e
 * filled on a syntax or redefinition error.
 */
json_t *toml_parse(const char *s, size_t n, struct toml_error *e);

/* "LINE:COL: msg" of an error, for messages that point at the input (the fuzzer, tools). */
void toml_error_str(const struct toml_error *e, char *buf, size_t n);

/*
 * Encodes v as BurntSushi/toml's Encoder (Helm's toToml): keys sorted, plain keys before tables,
 * two-space indentation per table level, floats with a decimal point. Returns a malloc'd string, or
 * NULL with err set to the encoder's error text (Helm prints that text as the result).
 */
char *toml_encode(json_t *v, struct sm_error *err);

int tfx_to_toml(struct tmpl_call *c, json_t **a, size_t n);
int tfx_from_toml(struct tmpl_call *c, json_t **a, size_t n);
int tfx_to_yaml_pretty(struct tmpl_call *c, json_t **a, size_t n);

#endif
