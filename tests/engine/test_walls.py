"""The walls a program hits, as the engine reports them, from real programs in real
containers under every runtime. So far the PID limit's refusals (the pids cgroup's own
count: exact); where the cgroup cannot be read (gVisor) the run says it saw no walls
(blocked is None), never an empty list that reads as 'nothing was blocked'."""

import pytest

from runner import Blocked, Limits, Output
from runner.units import MiB

from .runtimes import RUNTIMES

FORKS = """
import os, time
refused = 0
for _ in range(40):
    try:
        if os.fork() == 0:
            time.sleep(2)
            os._exit(0)
    except OSError:
        refused += 1
print("refused", refused, flush=True)
"""


@pytest.fixture(params=RUNTIMES)
def runtime(request):
    return request.param


def events_of(sandbox, source: str, **limits) -> list:
    return list(sandbox.start(source, "python", Limits(**limits)).events())


def test_forks_refused_at_the_pid_limit_are_one_wall_with_their_exact_count(sandbox, runtime):
    events = events_of(sandbox, FORKS, pids=16, memory=256 * MiB, runtime=runtime)
    result = events[-1].result
    refused = int(result.output.split()[1])
    assert refused > 0, result
    if runtime == "runsc":
        assert result.blocked is None and result.walls_watched == ()
        assert not any(isinstance(event, Blocked) for event in events)
        return
    assert result.walls_watched == ("process", "syscall")
    [wall] = result.blocked
    assert (wall.wall, wall.call, wall.errno, wall.exact) == ("process", "fork", "EAGAIN", True)
    assert wall.count == refused, "the cgroup counts each refused fork: exactly the program's own count"
    live = [event for event in events if isinstance(event, Blocked)]
    assert live and live[-1] == wall, "the last wall sent is the result's"


def test_a_clean_run_and_a_write_where_writing_is_allowed_hit_no_wall(sandbox):
    result = events_of(sandbox, "open('/tmp/notes.txt', 'w').write('hi')\nprint('ok')")[-1].result
    assert result.output == "ok\n"
    assert result.blocked == () and result.walls_watched == ("process", "syscall")


def test_a_fork_bomb_stays_one_wall_and_a_few_events(sandbox):
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    events = events_of(sandbox, bomb, pids=16, timeout=2)
    result = events[-1].result
    [wall] = result.blocked
    assert wall.count > 1000, wall          # it tried over and over: folded into one
    sent = [event for event in events if isinstance(event, Blocked)]
    assert len(sent) <= 2 / 0.25 + 3, f"{len(sent)} wall events for one wall: at most one a sample"


def test_a_program_cannot_forge_a_wall(sandbox):
    forged = ("import sys\nprint('\\x1e' + 'ab' * 16 + ' S t_ms=1 pids_refused=99')\n"
              "print('E phase=run pids_refused=99', file=sys.stderr)\n")
    events = events_of(sandbox, forged)
    result = events[-1].result
    assert result.blocked == () and "pids_refused=99" in result.output
    assert not any(isinstance(event, Blocked) for event in events)


def test_the_wall_comes_before_the_output_written_after_it(sandbox):
    source = FORKS.replace('print("refused"', 'time.sleep(0.6)\nprint("refused"')
    events = events_of(sandbox, source, pids=16)
    wall_at = next(i for i, event in enumerate(events) if isinstance(event, Blocked))
    said_at = next(i for i, event in enumerate(events) if isinstance(event, Output) and "refused" in event.text)
    assert wall_at < said_at


REFUSED_CALLS = """
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
for name, call in [("unshare", lambda: libc.unshare(0x10000000)),
                   ("mount", lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
                   ("keyctl", lambda: libc.syscall(250, 0, 0, 0, 0, 0))]:
    print(name, call(), errno.errorcode.get(ctypes.get_errno()), flush=True)
"""


def test_calls_the_policy_refuses_are_walls_with_their_errno(sandbox, runtime):
    """unshare, mount and keyctl: refused (EPERM) under runc and crun by the init itself,
    each one wall, exact; under gVisor its own kernel answers and no wall can be seen."""
    events = events_of(sandbox, REFUSED_CALLS, runtime=runtime)
    result = events[-1].result
    if runtime == "runsc":
        assert result.blocked is None
        return
    assert result.output.splitlines() == ["unshare -1 EPERM", "mount -1 EPERM", "keyctl -1 EPERM"]
    assert [(w.wall, w.call, w.errno, w.exact, w.count) for w in result.blocked] == [
        ("syscall", "unshare", "EPERM", True, 1), ("syscall", "mount", "EPERM", True, 1),
        ("syscall", "keyctl", "EPERM", True, 1)]
    assert "syscall" in result.walls_watched


def test_a_hundred_thousand_refused_calls_are_one_wall_and_end_in_time(sandbox):
    flood = ("import ctypes\nlibc = ctypes.CDLL(None)\nfor _ in range(100_000):\n"
             "    libc.unshare(0x10000000)\nprint('still here')\n")
    events = events_of(sandbox, flood, timeout=10)
    result = events[-1].result
    assert result.output == "still here\n" and result.verdict.value == "ok"
    [wall] = result.blocked
    assert (wall.call, wall.count) == ("unshare", 100_000)
    assert len([event for event in events if isinstance(event, Blocked)]) < 60, "one event per sample at most"


def test_a_refused_call_is_refused_and_seen_from_a_thread_and_a_child_too(sandbox):
    """The init's filter is the program's and every thread's and child's it makes: none
    of them gets around it, and each refusal is counted."""
    source = REFUSED_CALLS.replace("for name", "import os, threading\nt = threading.Thread(target=lambda: "
                                   "print('thread', libc.unshare(0x10000000), flush=True))\nt.start(); t.join()\n"
                                   "pid = os.fork()\nif pid == 0:\n    print('child', libc.unshare(0x10000000), "
                                   "flush=True)\n    os._exit(0)\nos.waitpid(pid, 0)\nfor name", 1)
    result = events_of(sandbox, source)[-1].result
    assert "thread -1" in result.output and "child -1" in result.output
    [unshare] = [wall for wall in result.blocked if wall.call == "unshare"]
    assert unshare.count == 3
