#!/usr/bin/env bash
# Make a Docker engine reachable on a fresh Debian machine, the way CI and a new
# developer both need it: install Debian's docker.io (plus the OCI runtimes gVisor's
# runsc and crun, and debootstrap for offline images) when missing, register the
# runtimes beside runc, start dockerd.
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

install_missing() {
  # Arguments are command:package pairs; only the packages whose command is missing.
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} from the host's apt sources" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

RUNTIME_PACKAGES=(runsc:runsc crun:crun)

# crun copies its own binary into a sealed memfd and runs that copy, for each of its four
# calls per container (CVE-2019-5736: a container must not be able to overwrite the host's
# runtime through /proc/self/exe), unless the binary it runs from is on a read-only mount,
# which the attack cannot write through either. Here the engine runs crun from such a mount:
# a read-only bind of crun's own folder, so it is the packaged binary, upgraded in place by
# apt as before. Under it lies a link to that binary, so after a reboot, before this script
# mounts it again, crun still runs from here, copying itself as it did.
# (8 ms less CPU a container here, a third of crun's; bench/service.py.)
READ_ONLY_RUNTIMES=/var/lib/tui-sandbox/read-only-runtimes

read_only_crun() {
  local crun; crun=$(command -v crun) || return 0
  crun=$(readlink -f "$crun")
  if ! mountpoint -q "$READ_ONLY_RUNTIMES"; then
    as_root mkdir -p "$READ_ONLY_RUNTIMES"
    as_root ln -sfn "$crun" "$READ_ONLY_RUNTIMES/crun"
    as_root mount --bind -o ro "$(dirname "$crun")" "$READ_ONLY_RUNTIMES" \
      || echo "could not mount crun's folder read-only: crun will copy itself for every container" >&2
  fi
}

register_runtimes() {
  # Each installed runtime gets an entry in daemon.json beside what is there already
  # (an entry of the same name is kept as it is, so this runs again harmlessly; crun's
  # entry as this script wrote it before it ran crun from a read-only mount is moved there).
  # gVisor must run with its own networking off here: with it on, runsc refuses to
  # start in the root network namespace. The engine refuses network-on runs for it.
  local crun=""
  command -v crun >/dev/null && crun="$READ_ONLY_RUNTIMES/crun"
  as_root mkdir -p /etc/docker
  as_root python3 - /etc/docker/daemon.json "$(command -v runsc || true)" "$crun" "$(command -v crun || true)" <<'PY'
import json, os, sys
path, runsc, crun, crun_before = sys.argv[1:]
config = {}
if os.path.exists(path) and os.path.getsize(path):
    with open(path) as file:
        config = json.load(file)
runtimes = config.setdefault("runtimes", {})
wanted = {"runsc": runsc and {"path": runsc, "runtimeArgs": ["--network=none"]},
          "crun": crun and {"path": crun}}
ours_before = {"crun": {"path": crun_before}}
changed = [name for name, spec in wanted.items()
           if spec and (name not in runtimes or runtimes[name] == ours_before.get(name))
           and runtimes.get(name) != spec]
for name in changed:
    runtimes[name] = wanted[name]
if changed:
    with open(path + ".new", "w") as file:
        json.dump(config, file, indent=2)
        file.write("\n")
    os.replace(path + ".new", path)
PY
}

cgroup_controllers_for_crun() {
  # crun refuses a hybrid cgroup host whose cgroup2 half holds any controller ("cgroups
  # in hybrid mode not supported"): here hugetlb is left there, with no v1 hierarchy.
  # Mounting each such controller as a v1 hierarchy, as systemd's hybrid layout does,
  # moves it over; runc and runsc take v1 hierarchies as they find them, and no running
  # container changes. It lasts until the next boot, as dockerd started here does.
  local unified=/sys/fs/cgroup/unified controller
  command -v crun >/dev/null && [ -f "$unified/cgroup.controllers" ] || return 0
  [ -z "$(cat "$unified/cgroup.subtree_control")" ] || return 0   # in use there: leave it
  for controller in $(cat "$unified/cgroup.controllers"); do
    as_root mkdir -p "/sys/fs/cgroup/$controller"
    as_root mount -t cgroup -o "$controller" cgroup "/sys/fs/cgroup/$controller"
  done
}

unloaded_runtimes() {
  # Registered in daemon.json but not yet known to the running engine, or known at another path.
  local known; known=$(docker info --format '{{json .Runtimes}}' 2>/dev/null) || return 1
  python3 -c 'import json, sys; config = json.load(open(sys.argv[1])); known = json.loads(sys.argv[2])
print(" ".join(name for name, spec in config.get("runtimes", {}).items()
               if known.get(name, {}).get("path") != spec.get("path")))' \
    /etc/docker/daemon.json "$known"
}

start() {
  if engine_answers; then
    # A running engine: add the runtimes it lacks and have dockerd reload its config.
    # SIGHUP reloads the runtimes without restarting dockerd or any container.
    install_missing "${RUNTIME_PACKAGES[@]}"
    read_only_crun
    register_runtimes
    cgroup_controllers_for_crun
    if [ -n "$(unloaded_runtimes)" ] && pgrep -x dockerd >/dev/null; then
      as_root kill -HUP "$(pgrep -x dockerd | head -n1)"
      for _ in $(seq 1 20); do [ -z "$(unloaded_runtimes)" ] && break; sleep 0.5; done
    fi
    echo "engine already running"
    return 0
  fi
  install_missing dockerd:docker.io "${RUNTIME_PACKAGES[@]}" debootstrap:debootstrap
  read_only_crun
  register_runtimes
  cgroup_controllers_for_crun
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
