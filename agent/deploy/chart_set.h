/* chart_set.h — Helm charts inside a set's folder (chart_set.c), rendered in chart mode with the set's data. */
#ifndef SM_CHART_SET_H
#define SM_CHART_SET_H

#include <jansson.h>
#include <stddef.h>

/* True when path is a chart: a folder holding Chart.yaml, or a .tgz file. */
int chart_set_is_chart(const char *path);
/* Renders every chart below DIR (not inside another chart) with release name = chart name, namespace =
 * data's Namespace, values = data's Variables.<chart name>, and global.sourcemode.{namespace,source,images};
 * appends {"file","line","object"} entries, labelled for set_name, to objs. 0, or -1 with err. */
int chart_set_render(const char *dir, json_t *data, const char *set_name, json_t *objs, struct sm_error *err);
/* How many charts DIR holds. */
int chart_set_count(const char *dir);

#endif
