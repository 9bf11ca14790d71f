"""Warm spares: a run that finds one skips Docker's create and start, yet still gets a
container that nothing has run in, with its deadline counted from the program's arrival."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner import Language, Limits, Sandbox, Started, Verdict
from runner.docker.cleanup import LABEL, OWNER_LABEL

from ..conftest import containers_owned_by


@pytest.fixture
def warm_box(sandbox):
    """A sandbox of its own with spares; after its close(), the autouse check of the
    shared one finds none of this process's containers left, spares included."""
    box = Sandbox()
    yield box
    box.close()


def warm_and_wait(box: Sandbox, language: str, limits: Limits) -> str:
    """Ask for a spare, wait until it is up, and return its container id."""
    box.warm(language, limits)
    kind = (box.language(language), box.check(limits))     # kept by the runtime that runs them
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ids = box.backend.spares.ids(kind)
        if ids:
            return ids[0]
        time.sleep(0.02)
    raise AssertionError("no spare became ready in 20 s")


def run_events(box: Sandbox, source: str, language: str, limits: Limits):
    events = list(box.start(source, language, limits).events())
    return events[0], events[-1].result


@pytest.mark.parametrize("runtime", ["runc", "runsc"])
def test_a_run_takes_the_warm_spare_and_a_new_one_is_made(warm_box, runtime):
    limits = Limits(timeout=5, runtime=runtime)
    spare_id = warm_and_wait(warm_box, "python", limits)
    started, result = run_events(warm_box, "print('from a spare')", "python", limits)
    assert isinstance(started, Started) and started.container_id == spare_id
    assert result.verdict is Verdict.OK and result.output == "from a spare\n"
    # Its place is taken by a new spare, never by the one that ran.
    assert warm_and_wait(warm_box, "python", limits) != spare_id


def test_a_spare_is_fresh_nothing_of_an_earlier_run_is_there(warm_box):
    limits = Limits(timeout=5, read_only=False)
    warm_and_wait(warm_box, "python", limits)
    first = run_events(warm_box, "open('/tmp/mark', 'w').write('x'); open('/home/sandbox/m', 'w').write('y')",
                       "python", limits)[1]
    assert first.verdict is Verdict.OK
    warm_and_wait(warm_box, "python", limits)
    second = run_events(warm_box, "import os; print(os.path.exists('/tmp/mark'), os.path.exists('/home/sandbox/m'))",
                        "python", limits)[1]
    assert second.output == "False False\n"


def test_the_deadline_counts_from_the_programs_arrival_not_the_spares_start(warm_box):
    limits = Limits(timeout=2)
    warm_and_wait(warm_box, "python", limits)
    time.sleep(3)   # longer than the timeout, spent waiting as a spare
    started, result = run_events(warm_box, "import time; time.sleep(1); print('done')", "python", limits)
    assert result.verdict is Verdict.OK and result.output == "done\n"


def test_a_spare_of_other_limits_is_never_used_and_is_dropped(warm_box, sandbox):
    small, large = Limits(memory=64 << 20), Limits(memory=96 << 20)
    small_id = warm_and_wait(warm_box, "python", small)
    large_id = warm_and_wait(warm_box, "python", large)   # the app keeps one kind: small goes
    started, result = run_events(warm_box, "print(1)", "python", small)
    assert started.container_id not in (small_id, large_id)
    assert result.limits == warm_box.check(small) and result.verdict is Verdict.OK
    assert warm_box.wait_for_cleanup(30)
    ids = {c["Id"] for c in sandbox.backend.api.containers(all=True)}
    assert small_id not in ids


def test_close_removes_every_spare(sandbox):
    box = Sandbox()
    spare_id = warm_and_wait(box, "bash", Limits())
    box.close()
    ids = {c["Id"] for c in sandbox.backend.api.containers(all=True)}
    assert spare_id not in ids


def test_a_spare_whose_owner_is_sigkilled_ends_and_is_removed(sandbox, tmp_path):
    code = ("import sys, time\n"
            "from runner import Limits, Sandbox\n"
            "box = Sandbox()\n"
            "box.warm('python', Limits())\n"
            "kind = (box.language('python'), box.check(Limits()))\n"
            "while not box.backend.spares.ids(kind): time.sleep(0.02)\n"
            "print('warm', flush=True)\n"
            "time.sleep(120)\n")
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             cwd=Path(__file__).resolve().parents[2])
    assert owner.stdout.readline() == b"warm\n"
    assert [c["State"] for c in containers_owned_by(sandbox, owner.pid)] == ["running"]
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    # Its standard input closed with it, so the waiting init ended, and Docker removed
    # the container by itself (auto-remove): nothing is left for a reaper.
    deadline = time.monotonic() + 10
    while containers_owned_by(sandbox, owner.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert containers_owned_by(sandbox, owner.pid) == []


def test_a_spare_that_waits_too_long_ends_itself_and_is_replaced(sandbox):
    box = Sandbox(spare_idle_s=2)
    try:
        first = warm_and_wait(box, "python", Limits())
        time.sleep(3.5)   # past the init's idle limit: it exited, and Docker removed it
        ids = {c["Id"] for c in sandbox.backend.api.containers(all=True)}
        assert first not in ids
        replacement = warm_and_wait(box, "python", Limits())
        assert replacement != first
        started, result = run_events(box, "print('still fresh')", "python", Limits())
        assert result.verdict is Verdict.OK and result.output == "still fresh\n"
    finally:
        box.close()


def test_spares_of_all_kinds_together_stay_within_their_bound(sandbox):
    box = Sandbox(spares_per_kind=2, warm_kinds=3, spares_in_all=2)
    try:
        kinds = [Limits(memory=(64 + 16 * i) << 20) for i in range(3)]
        for limits in kinds:
            box.warm("python", limits)
        time.sleep(4)   # time enough to make six, were there no bound
        pool = box.backend.spares
        assert sum(len(pool.ids((box.language("python"), box.check(limits)))) for limits in kinds) == 2
    finally:
        box.close()


def own_containers(sandbox, box: Sandbox) -> list[dict]:
    """The containers of the box's owner, this process: the shared sandbox has none of its
    own between tests (the autouse check), so these are the box's."""
    return [c for c in sandbox.backend.api.containers(all=True, filters={"label": LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL) == box.backend.owner]


def test_spares_are_made_at_once_up_to_their_total_and_all_go_at_close(sandbox):
    box = Sandbox(spares_per_kind=4, warm_kinds=2, spares_in_all=4)
    kind = (box.language("python"), box.check(Limits()))     # as the pool keys it: the runtime resolved
    pool = box.backend.spares
    most_making = most_containers = 0
    try:
        box.warm("python", Limits())
        deadline = time.monotonic() + 30
        while len(pool.ids(kind)) < 4 and time.monotonic() < deadline:
            most_making = max(most_making, pool.making())
            most_containers = max(most_containers, len(own_containers(sandbox, box)))
        ready = pool.ids(kind)
        assert len(ready) == 4
        assert most_making > 1          # two or more were being made together
        time.sleep(1)                   # and no more come once the total is reached
        assert len(own_containers(sandbox, box)) == 4 and pool.making() == 0
        assert most_containers <= 4
        started, result = run_events(box, "print('from one of four')", "python", Limits())
        assert started.container_id in ready and result.output == "from one of four\n"
    finally:
        box.close()
    assert own_containers(sandbox, box) == []


def test_a_close_while_spares_are_being_made_leaves_none(sandbox):
    box = Sandbox(spares_per_kind=4, warm_kinds=1, spares_in_all=4)
    pool = box.backend.spares
    box.warm("python", Limits())
    deadline = time.monotonic() + 20
    while pool.making() < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert pool.making() >= 2, "the spares were made before they could be seen in the making"
    box.close()
    assert pool.making() == 0
    assert own_containers(sandbox, box) == []


def test_a_kind_that_cannot_be_made_is_tried_again_ever_less_often(sandbox):
    ghost = Language("ghost", image="tui-sandbox-ghost:0", file="main.py", run=("python3", "{file}"))
    box = Sandbox(languages={"ghost": ghost}, spares_per_kind=4, warm_kinds=1, spares_in_all=4)
    try:
        box.warm("ghost", Limits())
        time.sleep(3)
        pool = box.backend.spares
        # A few tries, one at a time once one has failed, each after a longer wait: not a
        # try every few milliseconds from each of the four workers.
        assert 1 <= pool.failures <= 8
        assert pool.ids((ghost, Limits())) == []
    finally:
        box.close()
    assert own_containers(sandbox, box) == []


def test_a_spare_asked_for_once_the_sandbox_is_closed_is_never_made(sandbox):
    """A server stopping as its last requests come in: their warm() calls come after its
    close(), and a spare made then would belong to an engine connection nobody closes."""
    box = Sandbox()
    box.run("print(1)", "python")
    box.close()
    box.warm("python", Limits())
    time.sleep(3)             # time enough to make one, were it asked for
    assert [c for c in sandbox.backend.api.containers(all=True, filters={"label": LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL) == sandbox.backend.owner] == []
