# appdeploy.Dockerfile — the agent image: appdeploy built from this repository, with git, CA certificates, tar and gzip, run as uid 10001 on a read-only root filesystem (the in-cluster deploy manager).
#
# Build (from the repository root; scripts/images.sh does this, naming it sourcemode/appdeploy):
#   podman build --format docker -f images/appdeploy.Dockerfile --build-arg BASE=docker.io/library/debian:bookworm-slim -t sourcemode/appdeploy .
# Run as its pod does: the root filesystem read-only, /tmp and /var/lib/appdeploy writable (emptyDir volumes):
#   podman run --read-only --tmpfs /tmp --tmpfs /var/lib/appdeploy sourcemode/appdeploy --version
# The agent's manifests (deploy/agent/) are at /usr/share/appdeploy/agent, where `appdeploy up` and the agent find them.
ARG BASE=docker.io/library/debian:bookworm-slim

# appdeploy, compiled from this repository with the base's own toolchain and libraries
# (scripts/deps.sh installs the missing build packages; a base that has them needs no network).
FROM ${BASE} AS build
COPY Makefile /sourcemode/
COPY scripts/deps.sh /sourcemode/scripts/
RUN /sourcemode/scripts/deps.sh build && rm -rf /var/lib/apt/lists/*
COPY scripts/embed.sh /sourcemode/scripts/
COPY common /sourcemode/common/
COPY agent /sourcemode/agent/
# The runtime stage installs the packages that hold the libraries appdeploy was linked against.
RUN make -C /sourcemode -j"$(nproc)" BUILD=/tmp/build PREFIX=/usr /tmp/build/appdeploy && \
    /tmp/build/appdeploy --version && \
    for lib in $(ldd /tmp/build/appdeploy | awk '/=> \// {print $3}'); do \
        dpkg -S "*/${lib##*/}" | head -n 1 | cut -d: -f1; \
    done | sort -u > /tmp/build/runtime-packages && cat /tmp/build/runtime-packages

FROM ${BASE}
COPY images/apt-ensure.sh /usr/local/lib/sourcemode/apt-ensure.sh
COPY --from=build /tmp/build/runtime-packages /usr/local/lib/sourcemode/runtime-packages
# git (the agent clones the configuration; git-remote-https for https:// remotes), ca-certificates (the API
# server's and the git host's TLS), tar + gzip (the bundle ConfigMap's set.tar.gz). uid 10001 owns nothing
# but its home, which is a volume: the pod mounts an emptyDir there (and at /tmp). Mode 1777 as /tmp's, so that
# a tmpfs mounted over it (podman run --read-only --tmpfs, which keeps the directory's mode) is writable too.
RUN /usr/local/lib/sourcemode/apt-ensure.sh $(cat /usr/local/lib/sourcemode/runtime-packages) \
        git ca-certificates tar gzip && \
    echo 'appdeploy:x:10001:10001:appdeploy agent:/var/lib/appdeploy:/usr/sbin/nologin' >> /etc/passwd && \
    echo 'appdeploy:x:10001:' >> /etc/group && \
    mkdir -p /var/lib/appdeploy && chown 10001:10001 /var/lib/appdeploy && chmod 1777 /var/lib/appdeploy
COPY --from=build /tmp/build/appdeploy /usr/bin/appdeploy
COPY deploy/agent/ /usr/share/appdeploy/agent/
ENV HOME=/var/lib/appdeploy
WORKDIR /var/lib/appdeploy
VOLUME ["/tmp", "/var/lib/appdeploy"]
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["appdeploy"]
CMD ["--help"]
