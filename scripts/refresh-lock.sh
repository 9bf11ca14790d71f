#!/usr/bin/env bash
# Move uv.lock on to the newest releases that pyproject.toml's ranges allow, install them,
# and run everything CI runs. Commit the new uv.lock only if it all passes.
# Run it when a dependency is added or its range changed, and once a month or so, so the
# lock does not fall far behind the fixes upstream. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh                       # the pinned uv in .tools, the engine, the images
.tools/bin/uv lock --upgrade
scripts/setup.sh                       # now installs the new lock
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
echo "uv.lock refreshed and tested: review 'git diff uv.lock', then commit it" >&2
