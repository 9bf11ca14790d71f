# Every built-in language's runner image, from its entry in runner/languages.py: the
# build passes the language's Debian packages and its source file's name.
# BASE is debian:bookworm-slim online, or a local debootstrap image offline.
# INIT is the tui-sandbox-init image that holds /sandbox-init; the build names both.
ARG BASE=debian:bookworm-slim
ARG INIT=tui-sandbox-init
FROM ${INIT} AS init

FROM ${BASE}
ARG PACKAGES=""
ARG SOURCE_FILE
# libnss-myhostname: with the network off the engine gives the container no /etc/hosts
# (Docker then skips its network set-up, a third of a container's start), so "localhost"
# and the hostname resolve through this module instead.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libnss-myhostname $PACKAGES \
 && rm -rf /var/lib/apt/lists/* \
 && sed -i -E 's/^(hosts:[[:space:]]+files)/\1 myhostname/' /etc/nsswitch.conf \
 && grep -q '^hosts:.*myhostname' /etc/nsswitch.conf
COPY --from=init /sandbox-init /opt/tui-sandbox/init
# Node's stdin as at a terminal (see the file); the JavaScript entry preloads it.
COPY node-stdin.js /opt/tui-sandbox/node-stdin.js
# The source arrives on stdin; the init seals it into fd 3, which this root-owned link
# names. /sandbox is sticky: with a writable root the program may add files here but
# not remove or replace the link; with a read-only root nothing here is writable.
RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin sandbox \
 && install -d -m 1777 /sandbox && ln -s /proc/self/fd/3 "/sandbox/${SOURCE_FILE}"
USER 10001:10001
