# node.Dockerfile — the node runner image: reloader as PID 1 installing dependencies with npm and running node, source mounted at /src, caches in /cache.
#
# Build (from the repository root; scripts/images.sh does this):
#   podman build --format docker -f images/node.Dockerfile --build-arg BASE=docker.io/library/node:20.11.1-bookworm -t sourcemode/runner-node .
# Source mode:  podman run -v $PWD:/src -v cache-NAME:/cache -p 7070:7070 sourcemode/runner-node
# Plain PID 1:  podman run --entrypoint reloader sourcemode/runner-node -- /app/bin   (Kubernetes: command:)
ARG BASE=docker.io/library/node:20.11.1-bookworm

# reloader, compiled from this repository with the base's own toolchain and libraries.
FROM ${BASE} AS build
COPY images/apt-ensure.sh /usr/local/lib/sourcemode/apt-ensure.sh
RUN /usr/local/lib/sourcemode/apt-ensure.sh gcc make pkg-config libc6-dev libev-dev libinotifytools0-dev \
        libyaml-dev libjansson-dev libmicrohttpd-dev libxxhash-dev
COPY Makefile /sourcemode/
COPY common /sourcemode/common/
COPY reloader /sourcemode/reloader/
COPY scripts/deps.sh /sourcemode/scripts/
# The stamp stands for the Makefile's dependency check, which also wants appdeploy's libraries.
RUN mkdir -p /tmp/build && touch /tmp/build/.deps-build && \
    make -C /sourcemode -j"$(nproc)" BUILD=/tmp/build PREFIX=/usr /tmp/build/reloader && \
    /tmp/build/reloader --version

FROM ${BASE}
COPY images/apt-ensure.sh /usr/local/lib/sourcemode/apt-ensure.sh
RUN /usr/local/lib/sourcemode/apt-ensure.sh libev4 libinotifytools0 libyaml-0-2 libjansson4 libmicrohttpd12 \
        libxxhash0 curl
COPY --from=build /tmp/build/reloader /usr/bin/reloader
COPY runners/ /usr/share/sourcemode/runners/
ENV RELOADER_CACHE_DIR=/cache
WORKDIR /src
VOLUME /cache
EXPOSE 7070
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD curl -fsS http://127.0.0.1:7070/healthz || exit 1
ENTRYPOINT ["reloader", "--runner", "node"]
