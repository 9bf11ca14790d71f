"""Shared fixtures. Every engine test runs real containers on a real Docker engine:
without one, the tests fail (never skip), so CI cannot go green on an empty machine."""

from __future__ import annotations

import os

import pytest

from runner import Limits, Sandbox, SandboxError
from runner.docker.cleanup import LABEL, OWNER_LABEL
from runner.docker.images import build_command, list_images


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



def containers_owned_by(sandbox: Sandbox, pid: int) -> list[dict]:
    """The containers another tui-sandbox process on this host owns."""
    prefix = f"{os.uname().nodename}:{pid}:"
    return [c for c in sandbox.backend.api.containers(all=True, filters={"label": LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL, "").startswith(prefix)]
