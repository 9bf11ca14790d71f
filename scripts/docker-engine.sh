#!/usr/bin/env bash
# Make a Docker engine reachable on a fresh Debian machine, the way CI and a new
# developer both need it: install Debian's docker.io (plus gVisor's runsc and
# debootstrap for offline images) when missing, register runsc, start dockerd.
#
#   scripts/docker-engine.sh start   # prints "started PID" when it launched a daemon
#   scripts/docker-engine.sh stop    # stops a daemon this script started
#
# Nothing here names a mirror or a registry: packages come from the host's own
# apt sources.
set -euo pipefail

PIDFILE=${TUI_SANDBOX_DOCKERD_PIDFILE:-/tmp/tui-sandbox-dockerd.pid}
LOGFILE=${TUI_SANDBOX_DOCKERD_LOG:-/tmp/tui-sandbox-dockerd.log}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v runsc >/dev/null || missing+=(runsc)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} from the host's apt sources" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

register_runsc() {
  # gVisor must run with its own networking off here: with it on, runsc refuses to
  # start in the root network namespace. The engine refuses network-on runs for it.
  command -v runsc >/dev/null || return 0
  [ -f /etc/docker/daemon.json ] && grep -q runsc /etc/docker/daemon.json && return 0
  as_root mkdir -p /etc/docker
  as_root tee /etc/docker/daemon.json >/dev/null <<JSON
{"runtimes": {"runsc": {"path": "$(command -v runsc)", "runtimeArgs": ["--network=none"]}}}
JSON
}

start() {
  if engine_answers; then
    # A running engine without gVisor: register it and have dockerd reload its config.
    if command -v runsc >/dev/null && ! docker info 2>/dev/null | grep -q 'Runtimes:.*runsc' \
        && pgrep -x dockerd >/dev/null; then
      register_runsc
      as_root kill -HUP "$(pgrep -x dockerd | head -n1)"
      sleep 1
    fi
    echo "engine already running"
    return 0
  fi
  install_packages
  register_runsc
  as_root sh -c "nohup dockerd >'$LOGFILE' 2>&1 & echo \$! >'$PIDFILE'"
  for _ in $(seq 1 120); do
    if engine_answers; then echo "started $(cat "$PIDFILE")"; return 0; fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60 s; its log:" >&2
  tail -n 30 "$LOGFILE" >&2 || true
  return 1
}

stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid; pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    as_root kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && as_root kill -9 "$pid" || true
  fi
  # containerd is dockerd's child but outlives it when dockerd is killed hard.
  as_root pkill -x containerd 2>/dev/null || true
  rm -f "$PIDFILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
