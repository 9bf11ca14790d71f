#!/usr/bin/env bash
# Everything tui-sandbox needs on a fresh Debian machine, idempotent:
#   a Docker engine (installed and started only if none answers), gVisor registered,
#   a virtualenv in .venv with the app and its test tools, the runner images built
#   offline (no registry needed: the base comes from the host's own Debian mirror),
#   and Debian's Chromium, in which the tests open the service's web page.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/docker-engine.sh start
if ! command -v chromium >/dev/null; then
  echo "installing chromium (for the web page's browser tests) from the host's apt sources" >&2
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
.venv/bin/tui-sandbox images build --offline
