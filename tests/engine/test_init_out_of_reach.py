"""The init (PID 1: the deadline, the relay, the report, the watcher) is out of the
program's reach on every runtime: the program can neither signal it, nor trace it, nor
open what /proc says of it, nor take its uid. Under gVisor a SIGKILL to PID 1 used to end
the whole sandbox, report and all."""

import pytest

from runner import Verdict

from .programs import ATTEMPT
from .runtimes import RUNTIMES

REACH_FOR_THE_INIT = ATTEMPT + r"""
import ctypes, signal
for sig in ("SIGTERM", "SIGINT", "SIGUSR1", "SIGSTOP", "SIGKILL"):
    attempt(f"kill 1 {sig}", lambda: os.kill(1, getattr(signal, sig)))
attempt("kill -1 SIGKILL", lambda: os.kill(-1, signal.SIGKILL))
libc = ctypes.CDLL(None, use_errno=True)
def ptrace_attach():
    if libc.ptrace(16, 1, 0, 0) != 0:    # PTRACE_ATTACH
        raise OSError(ctypes.get_errno(), "ptrace")
attempt("ptrace 1", ptrace_attach)
for name in ("mem", "fd/1", "oom_score_adj", "comm", "environ"):
    attempt(f"write /proc/1/{name}", lambda: open(f"/proc/1/{name}", "wb", buffering=0).write(b"x"))
attempt("setuid to the init's", lambda: os.setresuid(10000, 10000, 10000))
print("still here, uid", os.getuid(), flush=True)
"""

EXPECTED = [
    "kill 1 SIGTERM EPERM", "kill 1 SIGINT EPERM", "kill 1 SIGUSR1 EPERM",
    "kill 1 SIGSTOP EPERM", "kill 1 SIGKILL EPERM",
    "kill -1 SIGKILL ESRCH",      # nothing else of its own to signal: the init is not its own
    "ptrace 1 EPERM",
    "write /proc/1/mem EACCES", "write /proc/1/fd/1 EACCES", "write /proc/1/oom_score_adj EACCES",
    "write /proc/1/comm EACCES", "write /proc/1/environ EACCES",
    "setuid to the init's EPERM",
    "still here, uid 10001",
]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_program_cannot_signal_trace_or_open_the_init(run, runtime):
    result = run(REACH_FOR_THE_INIT, runtime=runtime)
    # The run ends as the program did, reported by the init it could not reach.
    assert result.verdict is Verdict.OK, result.kill_reason
    assert result.output.splitlines() == EXPECTED, result.output
    assert result.exit_code == 0 and result.peak_memory_bytes


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_init_still_ends_a_program_that_tried(run, runtime):
    """Its timeout still holds: the init, not its uid, is what the program lost."""
    source = ("import os, signal\n"
              "for sig in (signal.SIGKILL, signal.SIGSTOP):\n"
              "    try: os.kill(1, sig)\n"
              "    except OSError: pass\n"
              "print('looping', flush=True)\n"
              "while True: pass\n")
    result = run(source, runtime=runtime, timeout=1)
    assert result.verdict is Verdict.TIMEOUT, result.kill_reason
    assert result.output == "looping\n"
