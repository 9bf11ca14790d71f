"""Shared fixtures. Every engine test runs real containers on a real Docker engine:
without one, the tests fail (never skip), so CI cannot go green on an empty machine."""

from __future__ import annotations

import errno
import os
import subprocess
import time
from pathlib import Path

import pytest

from runner import Limits, Sandbox, SandboxError
from runner.docker.cleanup import LABEL, OWNER_LABEL
from runner.docker.images import build_command, list_images
from runner.runtimes import runtime as traits_of


@pytest.fixture(scope="session")
def sandbox():
    box = Sandbox()
    try:
        box.info   # noqa: B018 - connects: the engine must be there
    except SandboxError as exc:
        pytest.fail(f"a Docker engine is required for these tests: {exc}", pytrace=False)
    missing = [s.ref for s in list_images(box.backend.api) if not s.present]
    if missing:
        pytest.fail(f"runner images missing: {missing}; build them with {build_command()}", pytrace=False)
    yield box
    box.close()


@pytest.fixture
def run(sandbox):
    """run(source, language="python", stdin=None, **limit changes) -> RunResult"""

    def _run(source: str, language: str = "python", stdin=None, **changes):
        return sandbox.run(source, language, Limits().with_(**changes), stdin=stdin)

    return _run


def our_containers(sandbox: Sandbox) -> list[dict]:
    """This process's containers, once removals already under way have finished."""
    assert sandbox.wait_for_cleanup(30), "removals did not finish in 30 s"
    return [c for c in sandbox.backend.api.containers(all=True, filters={"label": LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL) == sandbox.backend.owner]


@pytest.fixture(autouse=True)
def no_container_left(request):
    """After every test that used the engine, none of this process's containers remain."""
    yield
    if "sandbox" in request.fixturenames:
        box = request.getfixturevalue("sandbox")
        assert our_containers(box) == [], "a container outlived its run"



def left_by(sandbox: Sandbox, pid: int, runtime: str = "runc", within: float = 10) -> list[dict]:
    """What a finished tui-sandbox process left behind. Under runc (and crun: any runtime
    whose guest reads its cgroup) Docker removes an ended container by itself, a moment
    after the process that read its result has gone: that removal gets `within` seconds.
    Under gVisor the process removes it before it exits."""
    deadline = time.monotonic() + (within if traits_of(runtime).guest_sees_cgroup else 0)
    while (left := containers_owned_by(sandbox, pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def containers_owned_by(sandbox: Sandbox, pid: int) -> list[dict]:
    """The containers another tui-sandbox process on this host owns."""
    prefix = f"{os.uname().nodename}:{pid}:"
    return [c for c in sandbox.backend.api.containers(all=True, filters={"label": LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL, "").startswith(prefix)]


class TinyDisk:
    """A tmpfs of a few hundred KiB, mounted for one test (the tests run as root): fill()
    takes every byte left with one file, free() removes it."""

    def __init__(self, path: Path, size: str = "1m") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True,
                       capture_output=True)

    def fill(self) -> None:
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)

    def free(self) -> None:
        (self.path / "filler").unlink()

    def unmount(self) -> None:
        subprocess.run(["umount", "--lazy", str(self.path)], check=True, capture_output=True)


@pytest.fixture
def tiny_disk(tmp_path):
    """Set up before the servers that use it, so unmounted after they have stopped."""
    disk = TinyDisk(tmp_path / "tiny-disk")
    yield disk
    disk.unmount()
