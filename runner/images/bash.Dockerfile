# BASE is debian:bookworm-slim online, or a local debootstrap image offline.
# INIT is the tui-sandbox-init image that holds /sandbox-init; the build names both.
ARG BASE=debian:bookworm-slim
ARG INIT=tui-sandbox-init
FROM ${INIT} AS init

FROM ${BASE}
# bash and coreutils are in every Debian base: nothing is added.
COPY --from=init /sandbox-init /opt/tui-sandbox/init
RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin sandbox \
 && install -d -m 0755 /sandbox
# /sandbox is root-owned 0755: a read-only run mounts a fresh volume over it, which
# takes this mode, so nothing there is writable by the program.
USER 10001:10001
