/* yamlval.h — YAML text -> jansson values, resolving scalars the way kubectl does, with positions. */
#ifndef SM_YAMLVAL_H
#define SM_YAMLVAL_H

#include <jansson.h>
#include <stddef.h>

#include "errbuf.h"

/* Errors are struct sm_error (errbuf.h): file is the name the caller gave, line and col 1-based
 * (0 when unknown), msg "NAME:LINE:COL: what" ("NAME: what" without a position; sm_error_what gives
 * the what), go_line the line gopkg.in/yaml.v2 would name for a syntax error. */

/*
 * Parses YAML text into jansson values. Plain scalars follow YAML 1.1 as kubectl resolves
 * them: yes/no/on/off/true/false (any of their usual cases) are booleans, ~/null/empty is
 * null, integers stay int64 (decimal, 0x, 0o, 0b, leading-0 octal, '_' separators), floats
 * keep their value; quoted scalars and !!str stay strings. Merge keys (<<) and aliases work.
 *
 * Returns a new JSON array holding one value per document (empty documents are skipped
 * when skip_empty is set, else they are null), or NULL with *err filled.
 * When positions is not NULL, *positions receives a new object mapping the JSON pointer
 * of every node, prefixed by its document index ("0/spec/replicas"), to [line, col] of the
 * value and, for mapping values, [line, col] of the key: [vline, vcol, kline, kcol].
 */
json_t *yv_load(const char *text, size_t len, const char *name, int skip_empty, json_t **positions,
		struct sm_error *err);

/* Reads a whole file and calls yv_load; name in errors is the path. */
json_t *yv_load_file(const char *path, int skip_empty, json_t **positions, struct sm_error *err);

/*
 * Looks up the position of a node by JSON pointer ("0/watch/debounce"): the key's position
 * when want_key is set and the node is a mapping value, else the value's. Falls back to the
 * nearest ancestor that has one. Returns 0 when found, -1 otherwise (line/col left 0).
 */
int yv_position(json_t *positions, const char *pointer, int want_key, int *line, int *col);

/*
 * Resolves one plain scalar as kubectl would (see yv_load). Returns a new reference.
 */
json_t *yv_resolve_plain(const char *text, size_t len);

#endif
