"""A non-editable install must carry what the engine and app read at run time."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_dockerfiles_init_and_themes(tmp_path):
    # No build isolation: the locked setuptools builds it, nothing is downloaded.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("tui_sandbox-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("language.Dockerfile", "init.Dockerfile", "init.c", "node-stdin.js"):
        assert f"runner/images/{name}" in names
    assert "runner/docker/seccomp-docker-default.json" in names
    assert any(n.startswith("tui_sandbox/themes/") and n.endswith(".toml") for n in names)
    for module in ("app/app.tcss", "experiments/index.toml", "experiments/hello.js",
                   "classroom/templates/app_index.html", "service/web/index.html",
                   "forkserver/hot_code.txt"):
        assert f"tui_sandbox/{module}" in names, module
    # Every module of the source tree, in every package (a package left out of
    # pyproject.toml's list would be missing from the wheel).
    for root in ("runner", "tui_sandbox"):
        for source in (ROOT / root).rglob("*.py"):
            assert source.relative_to(ROOT).as_posix() in names, source
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "tui-sandbox = tui_sandbox.cli:entry" in zipfile.ZipFile(wheel).read(entry_points).decode()
