# BASE is debian:bookworm-slim online, or a local debootstrap image offline.
# INIT is the tui-sandbox-init image that holds /sandbox-init; the build names both.
ARG BASE=debian:bookworm-slim
ARG INIT=tui-sandbox-init
FROM ${INIT} AS init

FROM ${BASE}
# python3, not python3-minimal: the latter lacks ctypes, resource and json.
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
COPY --from=init /sandbox-init /opt/tui-sandbox/init
RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin sandbox \
 && install -d -m 1777 /sandbox && ln -s /proc/self/fd/3 /sandbox/main.py
# The source arrives on stdin; the init seals it into fd 3, which this root-owned link
# names. /sandbox is sticky: with a writable root the program may add files here but
# not remove or replace the link; with a read-only root nothing here is writable.
USER 10001:10001
