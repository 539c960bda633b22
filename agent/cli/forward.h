/* forward.h — `appdeploy up`'s local forward: a loopback HTTP server passing every request to the agent's Service through the API server's service proxy. */
#ifndef SM_FORWARD_H
#define SM_FORWARD_H

#include "kube.h"

/*
 * Listens on listen ("127.0.0.1:PORT"), prints "dashboard: http://127.0.0.1:PORT/", and forwards each
 * request (method, path, query, body, the headers the page sends) to
 * /api/v1/namespaces/NS2/services/appdeploy:http/proxy/PATH with kc's credentials, streaming the answer as it
 * comes (server-sent events), until SIGINT or SIGTERM. Each request runs on its own thread with its own
 * client made from kc. Returns 0 after a signal, -1 when it could not listen (said on stderr).
 */
int forward_run(const struct kube_config *kc, const char *ns2, const char *listen);

#endif
