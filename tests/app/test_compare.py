"""The one-line difference between two runs (F6, the report): from what the runs showed,
numbers and container ids aside. No engine needed: the results are made here."""

from __future__ import annotations

from runner import Limits, RunResult, Verdict
from tui_sandbox.compare import TOGGLES, Side, difference, first_lines


def result(verdict=Verdict.OK, output="", error="", exit_code=0, reason="Finished normally") -> RunResult:
    return RunResult(verdict=verdict, exit_code=exit_code, signal=None, kill_reason=reason, output=output,
                     error=error, duration_s=0.1, peak_memory_bytes=None, truncated=False, language="python",
                     runtime="runc", limits=Limits())


def test_a_changed_verdict_comes_first_with_the_error_that_says_why():
    failed = result(Verdict.ERROR, error="Traceback (most recent call last):\n  ...\nsocket.gaierror: [Errno -3] "
                    "Temporary failure in name resolution\n", exit_code=1, reason="Exited with status 1")
    line = difference(Side("with the network off", failed), Side("with the network on", result(output="1.2.3.4\n")))
    assert line == ("With the network on it ends OK; with the network off, ERROR (exit 1): socket.gaierror: "
                    "[Errno -3] Temporary failure in name resolution")


def test_the_same_verdict_names_the_first_line_that_differs():
    line = difference(Side("with a writable root", result(output="wrote /tmp/a\nwrote /var/b\nwrote /c\n")),
                      Side("with a read-only root", result(output="wrote /tmp/a\nrefused /var/b\nrefused /c\n")))
    assert line == ("With a read-only root: “refused /var/b”; with a writable root: “wrote /var/b” "
                    "(and 1 more line differ)")


def test_numbers_and_ids_are_not_a_difference():
    a = result(output="container 0123456789abcdef, 4,282,756 turns in 1.02 s\n")
    b = result(output="container fedcba9876543210, 3,999,001 turns in 0.98 s\n")
    assert difference(Side("under runc", a), Side("under gVisor", b)) == (
        "No difference: both end OK, with the same output (numbers and ids aside)")
    assert difference(Side("x", a), Side("y", a)) == "No difference: both end OK, with the same output"


def test_a_run_that_could_not_start_is_said_so():
    line = difference(Side("with the network off", result(output="hi\n")),
                      Side("with the network on", None, "gVisor (runsc) is registered here with --network=none"))
    assert line == ("With the network on the run was refused: gVisor (runsc) is registered here with "
                    "--network=none; with the network off it ends OK")


def test_toggles_flip_one_switch():
    off, on = TOGGLES["read_only"].sides(Limits(memory=64 << 20))
    assert (off.read_only, on.read_only, off.memory, on.memory) == (False, True, 64 << 20, 64 << 20)
    assert first_lines("a\nb\nc\nd\n", 3) == ["a", "b", "… 2 more lines"]


def test_walls_one_run_hit_and_the_other_did_not_are_named():
    from dataclasses import replace

    from runner import Blocked

    wall = Blocked("process", "fork", "", "EAGAIN", True, 0.1, 26)
    low, high = replace(result(output="done\n"), blocked=(wall,)), replace(result(output="done\n"), blocked=())
    line = difference(Side("with 16 PIDs", low), Side("with 64 PIDs", high))
    assert line == "With 16 PIDs the sandbox blocked process fork ×26; both end OK, with the same output"
    changed = difference(Side("with 16 PIDs", replace(low, output="stopped early\n")),
                         Side("with 64 PIDs", replace(high, output="went on\n")))
    assert changed.endswith("; with 16 PIDs the sandbox blocked process fork ×26"), changed
