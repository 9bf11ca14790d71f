#!/usr/bin/env bash
# Everything tui-sandbox needs on a fresh Debian machine, idempotent:
#   a Docker engine (installed and started only if none answers), gVisor registered,
#   a virtualenv in .venv with the app and its test tools, the runner images built
#   offline (no registry needed: the base comes from the host's own Debian mirror),
#   Debian's Chromium, in which the tests open the service's web page, and Node.js
#   with npm, with which they run a real Piston client from npm; Debian's redis-server
#   and PostgreSQL, which the cluster's tests run (as their own processes, never the
#   system's services).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/docker-engine.sh start
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v redis-server >/dev/null || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (for the service's browser, Piston-client and cluster tests)" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# CPython 3.12 or later where the machine has it (pyenv's, say): its immortal objects let
# the fork server's children share a third more of their memory (forkserver/preload.py).
# Else the machine's python3 (3.11 works, with more memory per student).
python=python3
candidates=(python3.12 python3.13)
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12* "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*; do
  candidates+=("$dir/bin/python3")       # pyenv's, installed but not on the PATH
done
for candidate in "${candidates[@]}"; do
  if "$candidate" -c 'import venv, ensurepip' >/dev/null 2>&1; then python=$candidate; break; fi
done
version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
if [ -x .venv/bin/python ] && [ "$(version .venv/bin/python)" != "$(version "$python")" ]; then
  echo "rebuilding .venv with Python $(version "$python") (it had $(version .venv/bin/python))" >&2
  rm -rf .venv
fi
# Exactly what uv.lock says, hashes checked: what CI tested is what a fresh machine gets,
# whatever PyPI has released since (scripts/refresh-lock.sh moves the lock on).
# uv itself comes from PyPI, pinned, into a folder of its own.
uv_version=$(cat scripts/uv-version)
if [ "$(.tools/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$uv_version" ]; then
  rm -rf .tools
  "$python" -m venv .tools
  .tools/bin/pip install -q --disable-pip-version-check "uv==$uv_version"
fi
# --compile-bytecode: uv leaves .pyc files to the first import (pip wrote them), and where
# PYTHONDONTWRITEBYTECODE is set nobody ever writes them: every `tui-sandbox run` then
# compiled the Docker SDK's whole HTTP stack from source again (about 200 ms a run here).
UV_PROJECT_ENVIRONMENT=.venv UV_PYTHON_DOWNLOADS=never \
  .tools/bin/uv sync --quiet --frozen --compile-bytecode --extra test --python "$python"
# ... and the project's own modules, installed editable from this folder, which uv does not
# compile: without their .pyc each `tui-sandbox run` compiled them again (20 ms here).
.venv/bin/python -m compileall -q -j 0 runner tui_sandbox
.venv/bin/tui-sandbox images build --offline
