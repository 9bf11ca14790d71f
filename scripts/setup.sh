#!/usr/bin/env bash
# Everything tui-sandbox needs on a fresh Debian machine, idempotent:
#   a Docker engine (installed and started only if none answers), gVisor registered,
#   a virtualenv in .venv with the app and its test tools, the runner images built
#   offline (no registry needed: the base comes from the host's own Debian mirror).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/docker-engine.sh start
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
.venv/bin/tui-sandbox images build --offline
