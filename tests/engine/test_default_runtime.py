"""The runtime a run gets when it names none: on this engine (scripts/docker-engine.sh
registers crun) that is crun, as Docker itself ran the container (its HostConfig), and as
the run, its result and the command line say; one named is kept; and a spare warmed for
a run that names none is the one such a run takes."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from runner import Finished, Limits, RuntimeUnavailable, Sandbox, Started, Verdict
from runner.docker.cleanup import LABEL, OWNER_LABEL

from .test_cli import cli

PAUSED = "import time; time.sleep(0.5); print('ran')"


@pytest.fixture(autouse=True)
def crun_is_registered(sandbox):
    if "crun" not in sandbox.info.runtimes:
        pytest.fail("this engine has no crun runtime: scripts/docker-engine.sh registers it")


def carried_out(box: Sandbox, limits: Limits) -> tuple[Started, str, Finished]:
    """A run to its end: its Started, the runtime Docker ran its container under (asked
    while it runs: an ended runc-like container is removed at once), and its Finished."""
    started = hosted = finished = None
    for event in box.start(PAUSED, "python", limits).events():
        if isinstance(event, Started):
            started = event
            hosted = box.backend.api.inspect_container(event.container_id)["HostConfig"]["Runtime"]
        elif isinstance(event, Finished):
            finished = event
    assert started is not None and hosted is not None and finished is not None
    assert finished.result.verdict is Verdict.OK and finished.result.output == "ran\n", finished.result
    return started, hosted, finished


def test_a_run_that_names_no_runtime_runs_under_crun(sandbox):
    started, hosted, finished = carried_out(sandbox, Limits())
    assert hosted == "crun"
    assert started.runtime == started.limits.runtime == "crun"
    assert finished.result.runtime == finished.result.limits.runtime == "crun"


def test_crun_runs_from_a_read_only_mount_of_the_packaged_binary(sandbox):
    """crun copies itself into memory for each call unless its binary is on a read-only
    mount (its CVE-2019-5736 guard, src/libcrun/cloned_binary.c): the engine runs the
    packaged crun, not a copy that apt would leave behind, from such a mount."""
    registered = sandbox.backend.api.info()["Runtimes"]["crun"]["path"]
    packaged = shutil.which("crun")
    assert packaged is not None, "crun is installed by scripts/docker-engine.sh"
    assert os.path.samefile(registered, packaged), (registered, packaged)
    assert os.statvfs(registered).f_flag & os.ST_RDONLY, f"{registered} is on a writable mount"
    assert not os.statvfs(packaged).f_flag & os.ST_RDONLY, "the package's own path stays writable for apt"


def test_a_named_runtime_is_the_one_that_runs(sandbox):
    started, hosted, finished = carried_out(sandbox, Limits(runtime="runc"))
    assert hosted == started.runtime == finished.result.runtime == finished.result.limits.runtime == "runc"


def test_the_command_line_runs_under_crun_unless_told_otherwise(tmp_path):
    source = str(tmp_path / "prog.py")
    (tmp_path / "prog.py").write_text("print(1)")
    default = json.loads(cli("run", source, "--json").stdout)
    assert default["runtime"] == default["limits"]["runtime"] == "crun"
    named = json.loads(cli("run", source, "--runtime", "runc", "--json").stdout)
    assert named["runtime"] == named["limits"]["runtime"] == "runc"
    # auto, asked for by name, is the default too.
    assert json.loads(cli("run", source, "--runtime", "auto", "--json").stdout)["runtime"] == "crun"


@pytest.fixture
def warm_box(sandbox):
    """A sandbox of its own with spares: its close() removes them (the autouse check of
    the shared one then finds none of this process's containers left)."""
    box = Sandbox()
    yield box
    # The run's own container is Docker's to remove once it ends (auto-remove): this
    # box's removals know when that is done, the shared sandbox's do not.
    assert box.wait_for_cleanup(30)
    box.close()


def spare_ids(box: Sandbox) -> set[str]:
    """The containers this sandbox has up and no run has taken: its spares."""
    return {c["Id"] for c in box.backend.api.containers(filters={"label": LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL) == box.backend.owner}


def warmed(box: Sandbox, limits: Limits) -> str:
    box.warm("python", limits)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if ids := spare_ids(box):
            [spare] = ids
            return spare
        time.sleep(0.02)
    raise AssertionError("no spare came up in 20 s")


@pytest.mark.parametrize("asked", [Limits(timeout=5), Limits(timeout=5, runtime="crun")],
                         ids=["naming none", "naming crun"])
def test_a_spare_warmed_for_a_run_that_names_no_runtime_is_taken_by_it(warm_box, asked):
    """Warmed for the default, it is a crun container; a run that names none, or names
    crun, takes it: both are the same kind once the engine has resolved them."""
    spare = warmed(warm_box, Limits(timeout=5))
    assert warm_box.backend.api.inspect_container(spare)["HostConfig"]["Runtime"] == "crun"
    started, hosted, finished = carried_out(warm_box, asked)
    assert started.container_id == spare and hosted == "crun"
    assert finished.result.runtime == "crun"


def test_a_first_run_refused_by_the_engine_leaves_no_container(sandbox):
    """A process's first run has its container made while the engine is asked what it
    has: refused then (gVisor is registered here without a network), that container goes."""
    box = Sandbox()
    try:
        with pytest.raises(RuntimeUnavailable):
            box.start(PAUSED, "python", Limits(runtime="runsc", network=True))
        assert box.wait_for_cleanup(30)
        assert [c for c in box.backend.api.containers(all=True, filters={"label": LABEL})
                if (c.get("Labels") or {}).get(OWNER_LABEL) == box.backend.owner] == []
    finally:
        box.close()
