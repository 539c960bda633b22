/* yamlemit.h — jansson values -> YAML text the way sigs.k8s.io/yaml (Helm's toYaml) prints them. */
#ifndef SM_YAMLEMIT_H
#define SM_YAMLEMIT_H

#include <jansson.h>
#include <stddef.h>

/*
 * Returns a malloc'd, NUL-terminated YAML document for v (the caller frees it), ending in a
 * newline as yaml.Marshal's output does; *len receives its length when len is not NULL.
 * Mapping keys are sorted in yaml.v2's order (digit runs compare as numbers: a2 before a10), nested mappings indent by 2, sequences under a key are not
 * indented, strings are quoted only when a plain scalar would read back as another type or
 * is not allowed (double quotes for lookalikes of other types, single quotes otherwise),
 * multi-line strings use literal blocks, integers print as integers, floats print like
 * Go's strconv 'g' (integral floats below 2^63 print as integers, as the JSON round trip
 * of sigs.k8s.io/yaml makes them). NULL v prints "null".
 * Long plain and quoted strings fold at a space once past column 80, as yaml.v2's emitter does.
 */
char *yaml_emit(json_t *v, size_t *len);

/* As yaml_emit, laid out as yaml.v3's encoder with SetIndent(2) prints (Helm's toYamlPretty): sequences
 * under a key indented by 2, no folding of long strings, floats always as strconv 'g' (1 -> 1,
 * 1234567 -> 1.234567e+06: no JSON round trip). */
char *yaml_emit_pretty(json_t *v, size_t *len);

#endif
