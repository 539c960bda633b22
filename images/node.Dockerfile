# node.Dockerfile — the node runner image: reloader as PID 1 installing dependencies with npm and running node, source mounted at /src, caches in /cache.
#
# Build (from the repository root; scripts/images.sh does this):
#   podman build --format docker -f images/node.Dockerfile --build-arg BASE=docker.io/library/node:20.11.1-bookworm -t sourcemode/runner-node .
# Source mode:  podman run -v $PWD:/src -v cache-NAME:/cache -p 7070:7070 sourcemode/runner-node
# Plain PID 1:  podman run --entrypoint reloader sourcemode/runner-node -- /app/bin   (Kubernetes: command:)
ARG BASE=docker.io/library/node:20.11.1-bookworm

# reloader, compiled from this repository with the base's own toolchain and libraries
# (scripts/deps.sh installs the missing build packages; a base that has them needs no network).
FROM ${BASE} AS build
COPY Makefile /sourcemode/
COPY scripts/deps.sh /sourcemode/scripts/
RUN /sourcemode/scripts/deps.sh build && rm -rf /var/lib/apt/lists/*
COPY common /sourcemode/common/
COPY reloader /sourcemode/reloader/
# The runtime stage installs the packages that hold the libraries reloader was linked against.
RUN make -C /sourcemode -j"$(nproc)" BUILD=/tmp/build PREFIX=/usr /tmp/build/reloader && \
    /tmp/build/reloader --version && \
    for lib in $(ldd /tmp/build/reloader | awk '/=> \// {print $3}'); do \
        dpkg -S "*/${lib##*/}" | head -n 1 | cut -d: -f1; \
    done | sort -u > /tmp/build/runtime-packages && cat /tmp/build/runtime-packages

FROM ${BASE}
COPY images/apt-ensure.sh /usr/local/lib/sourcemode/apt-ensure.sh
COPY --from=build /tmp/build/runtime-packages /usr/local/lib/sourcemode/runtime-packages
RUN /usr/local/lib/sourcemode/apt-ensure.sh $(cat /usr/local/lib/sourcemode/runtime-packages) curl
COPY --from=build /tmp/build/reloader /usr/bin/reloader
COPY runners/ /usr/share/sourcemode/runners/
ENV RELOADER_CACHE_DIR=/cache
WORKDIR /src
VOLUME /cache
EXPOSE 7070
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD curl -fsS http://127.0.0.1:7070/healthz || exit 1
ENTRYPOINT ["reloader", "--runner", "node"]
