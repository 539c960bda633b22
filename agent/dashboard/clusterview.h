/* clusterview.h — the dashboard's view of a namespace from the API server's lists (pure; no I/O, no threads). */
#ifndef SM_CLUSTERVIEW_H
#define SM_CLUSTERVIEW_H

#include <jansson.h>

/*
 * One summary per Deployment of the deployments list items (borrowed), in their order:
 *   {name, desired, ready, updated, state: running|progressing|failed|stopped, message, reason, mode: ci|source,
 *    source_mode: hostpath|sync|null, source_modes: the modes the annotations allow (["ci", "hostpath"...]),
 *    source_capable, runner, container, image, created, source_path, control_port,
 *    pods: [{name, phase, ready, restarts, created, deleting, reason, containers}],
 *    events: [{type, reason, message, time, object, count}] (at most 10, the list's last)}
 * pods and events are the items of the namespace's pod and event lists (borrowed; NULL = none);
 * source is the source-mode state ({"NAME": true | "sync"}) of the services in source mode. A Deployment's pods are the pods named
 * NAME-... whose labels match its selector; its events are about NAME or NAME-... objects.
 * The reason of a failed or progressing Deployment: its Progressing condition's, else a pod's
 * waiting/terminated reason (ImagePullBackOff), else the newest Warning event's. Returns a new array.
 */
json_t *clusterview_deployments(json_t *deployments, json_t *pods, json_t *source, json_t *events);

/* metadata.annotations[key] of obj, or NULL. */
const char *cv_annotation(json_t *obj, const char *key);
/* The integer at obj[a][b], or dflt. */
json_int_t cv_int(json_t *obj, const char *a, const char *b, json_int_t dflt);

#endif
