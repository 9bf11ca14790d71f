"""Every verdict a run can end with, and its reason, from what the init reports and what
the engine says, played back by a fake backend: no Docker."""

import pytest

import runner.run
from runner import Finished, Limits, Phase, Verdict, headline
from runner.units import MiB

from .fake_backend import FakeContainer, Hang, end, err, fake_sandbox, finish, out, play, sample


def result_of(events):
    assert isinstance(events[-1], Finished)
    return events[-1].result


def test_ok():
    events, container = play([out(b"hi\n"), *finish(code=0, elapsed_ms=120)])
    result = result_of(events)
    assert (result.verdict, result.kill_reason) == (Verdict.OK, "Finished normally")
    assert (result.exit_code, result.signal, result.duration_s) == (0, None, 0.12)
    assert headline(result) == "OK" and container.kills == 0


def test_exit_status_is_an_error():
    result = result_of(play([*finish(code=3)])[0])
    assert (result.verdict, result.kill_reason) == (Verdict.ERROR, "Exited with status 3")
    assert (result.exit_code, result.signal) == (3, None)
    assert headline(result) == "ERROR (exit 3)"


def test_timeout_reported_by_the_init():
    limits = Limits(timeout=2)
    events, container = play([out(b"working\n"), *finish(signal=9, timed_out=1, elapsed_ms=2003)], limits=limits)
    result = result_of(events)
    assert (result.verdict, result.kill_reason) == (Verdict.TIMEOUT, "Timed out after 2 s and was killed")
    assert (result.exit_code, result.signal, result.duration_s) == (None, "SIGKILL", 2.003)
    assert result.output == "working\n"
    assert container.kills == 0   # the init ended it: the host had nothing to do


def test_the_host_deadline_kills_a_run_whose_init_never_ends_it(monkeypatch):
    monkeypatch.setattr(runner.run, "HOST_GRACE_S", 0.0)
    events, container = play([out(b"stuck\n"), Hang()], limits=Limits(timeout=0.3))
    result = result_of(events)
    assert (result.verdict, result.kill_reason) == (Verdict.TIMEOUT, "Timed out after 0.3 s and was killed")
    assert container.kills == 1
    # No report: the engine's exit code (137) is our SIGKILL, not an exit status.
    assert container.exit_facts_asked == [False]
    assert (result.exit_code, result.signal) == (None, "SIGKILL")
    assert 0.3 <= result.duration_s < 3 and result.output == "stuck\n"


def test_oom_kill_of_the_program_reported_by_the_init():
    result = result_of(play([*finish(signal=9, oom_kills=1, peak=128 * MiB)])[0])
    assert (result.verdict, result.kill_reason) == (Verdict.OOM, "Out of memory: killed at the 128 MiB limit")
    assert (result.signal, result.peak_memory_bytes) == ("SIGKILL", 128 * MiB)


def test_oom_kill_of_a_child_says_how_the_program_itself_ended():
    result = result_of(play([*finish(code=1, oom_kills=1)])[0])
    assert result.verdict is Verdict.OOM
    assert result.kill_reason == ("Out of memory: a process was killed at the 128 MiB limit "
                                  "(the program itself exited with 1)")
    assert result.exit_code == 1


def test_oom_the_engine_saw_when_the_sandbox_died_without_a_report():
    # gVisor's sandbox dies whole: no E record, only Docker's OOMKilled and exit 137.
    script = [out(b"allocating\n"), err(sample(0, memory=5 * MiB))]
    events, container = play(script, limits=Limits(memory=64 * MiB), exit_code=137, oom_killed=True)
    result = result_of(events)
    assert (result.verdict, result.kill_reason) == (Verdict.OOM, "Out of memory: killed at the 64 MiB limit")
    assert (result.exit_code, result.signal) == (None, "SIGKILL")
    assert result.peak_memory_bytes == 64 * MiB   # the kernel acted at the limit
    assert container.exit_facts_asked == [False] and container.kills == 0


def test_oom_the_engine_saw_where_the_init_cannot_read_oom_kills():
    # oom_kills=-1: no cgroup to read (gVisor), so the engine is asked.
    events, container = play([*finish(signal=9, oom_kills=-1)], oom_killed=True)
    result = result_of(events)
    assert (result.verdict, result.kill_reason) == (Verdict.OOM, "Out of memory: killed at the 128 MiB limit")
    assert container.exit_facts_asked == [False]


def test_the_engine_is_not_asked_about_memory_when_the_init_reported_it():
    events, container = play([*finish(code=0, oom_kills=0)], oom_killed=False)
    assert result_of(events).verdict is Verdict.OK and container.exit_facts_asked == [True]


def test_node_heap_out_of_memory():
    stderr = b"FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n"
    result = result_of(play([err(stderr), *finish(signal=6)], language="javascript")[0])
    assert result.verdict is Verdict.OOM
    assert result.kill_reason == ("Out of memory: Node.js reached its heap limit (sized to half of the "
                                  "128 MiB limit) and stopped")
    assert result.signal == "SIGABRT" and result.error == stderr.decode()


def test_output_limit_cut_by_the_init():
    result = result_of(play([out(b"x" * 100), *finish(signal=9, output_limited=1)])[0])
    assert (result.verdict, result.kill_reason) == (Verdict.OUTPUT_LIMIT, "Output passed 1 MiB and was cut off")
    assert result.truncated is True and result.signal == "SIGKILL"
    assert headline(result) == "OUTPUT LIMIT"


def test_output_limit_cut_by_the_host_kills_the_container():
    # A program that writes past the init (gVisor's /proc/1/fd/1): the host's own cap acts.
    events, container = play([out(b"a" * 2000), Hang()], limits=Limits(output=1024))
    result = result_of(events)
    assert (result.verdict, result.kill_reason) == (Verdict.OUTPUT_LIMIT, "Output passed 1 KiB and was cut off")
    assert result.truncated is True and result.output == "a" * 1024
    assert container.kills == 1 and (result.exit_code, result.signal) == (None, "SIGKILL")


def test_segmentation_fault_says_what_it_means():
    result = result_of(play([*finish(signal=11)])[0])
    assert result.verdict is Verdict.SIGNAL
    assert result.kill_reason == "Killed by SIGSEGV (segmentation fault: the program touched memory it does not own)"
    assert (result.exit_code, result.signal) == (None, "SIGSEGV")
    assert headline(result) == "SIGNAL (SIGSEGV)"


def test_a_signal_without_a_known_meaning_is_named_only():
    result = result_of(play([*finish(signal=10)])[0])
    assert (result.verdict, result.kill_reason, result.signal) == (Verdict.SIGNAL, "Killed by SIGUSR1", "SIGUSR1")


def test_cancelled_before_it_started():
    container = FakeContainer([out(b"never\n"), *finish(code=0)])
    run = fake_sandbox(container).start("print(1)", "python")
    run.cancel()
    events = list(run.events())
    assert len(events) == 1
    result = result_of(events)
    assert (result.verdict, result.kill_reason) == (Verdict.CANCELLED, "Stopped on request before it finished")
    assert (result.output, result.duration_s, result.exit_code) == ("", 0.0, None)
    assert container.writes == [] and container.reads == 0   # the program was never handed over
    assert container.releases == 1


def test_cancelled_mid_run():
    container = FakeContainer([out(b"tick\n"), Hang()])
    run = fake_sandbox(container).start("print(1)", "python")
    events = []
    for event in run.events():
        events.append(event)
        if getattr(event, "text", None) == "tick\n":
            run.cancel()
    result = result_of(events)
    assert (result.verdict, result.kill_reason) == (Verdict.CANCELLED, "Stopped on request before it finished")
    assert result.output == "tick\n" and (result.exit_code, result.signal) == (None, "SIGKILL")
    assert container.kills == 1 and container.releases == 1


def test_compile_failure():
    script = [err(sample(0, memory=20 * MiB)), err(b"main.c:1:9: error: expected ';' before '}' token\n"),
              *finish("compile", code=1, elapsed_ms=400)]
    events, _ = play(script, source="int main(){return 0}", language="c")
    result = result_of(events)
    assert (result.verdict, result.kill_reason) == (Verdict.ERROR, "Compilation failed (the compiler exited with 1)")
    assert result.compile_failed is True and result.exit_code == 1
    assert "expected ';'" in result.error and result.duration_s == 0.4
    assert [e.name for e in events if isinstance(e, Phase)] == ["compiling"]   # never running


def test_the_compiler_killed_by_a_signal():
    result = result_of(play([*finish("compile", signal=9)], language="c")[0])
    assert (result.verdict, result.kill_reason) == (Verdict.SIGNAL, "The compiler was killed by SIGKILL")
    assert result.compile_failed is True


def test_the_sandbox_dying_without_a_report():
    events, container = play([out(b"partial")], exit_code=137)
    result = result_of(events)
    assert result.verdict is Verdict.ERROR
    # What is known, never a guess at why (it once said "usually means it hit its process limit").
    assert result.kill_reason == ("The sandbox stopped without a report (exit 137: its init was killed by "
                                  "SIGKILL), so how the program ended is not known")
    # Nobody killed it: 137 stays the engine's exit code, not a signal of ours.
    assert (result.exit_code, result.signal, result.output) == (137, None, "partial")
    assert container.kills == 0 and container.exit_facts_asked == [False]


def test_python_memory_error():
    stderr = b"Traceback (most recent call last):\n  File \"main.py\", line 1\nMemoryError\n"
    result = result_of(play([err(stderr), *finish(code=1)])[0])
    assert result.verdict is Verdict.ERROR
    assert result.kill_reason == ("Python raised MemoryError: the program asked for more memory than it "
                                  "could get (exit 1)")


def test_a_program_that_could_not_be_started():
    stderr = b"tui-sandbox: cannot start /tmp/main: Permission denied\n"
    result = result_of(play([err(stderr), *finish(code=127)])[0])
    assert (result.verdict, result.kill_reason) == (Verdict.ERROR, "The program could not be started (exit 127)")


@pytest.mark.parametrize("fields, verdict", [
    ({"signal": 9, "timed_out": 1, "output_limited": 1, "oom_kills": 1}, Verdict.OUTPUT_LIMIT),
    ({"signal": 9, "timed_out": 1, "oom_kills": 1}, Verdict.TIMEOUT),
    ({"signal": 11, "oom_kills": 1}, Verdict.OOM),
])
def test_what_was_done_to_the_run_comes_before_how_it_ended(fields, verdict):
    assert result_of(play([*finish(**fields)])[0]).verdict is verdict


COMPILED = end("compile", code=0, elapsed_ms=900, peak=90 * MiB, cpu_ns=2_000_000_000)


def test_a_compiled_program_whose_sandbox_dies_is_not_judged_by_its_compile():
    # The compile's E record said the compiler exited 0; the run's never came.
    events, container = play([err(COMPILED), out(b"partial")], language="c", exit_code=137)
    result = result_of(events)
    assert result.verdict is Verdict.ERROR
    assert result.kill_reason.startswith("The sandbox stopped without a report (exit 137: ")
    assert (result.exit_code, result.signal, result.output) == (137, None, "partial")
    # Nothing of the compiler's is the program's: not its peak, its CPU or its time.
    assert (result.peak_memory_bytes, result.cpu_seconds) == (None, None)
    assert container.exit_facts_asked == [False]   # the engine is asked how it ended


def test_a_compiled_program_cancelled_while_it_runs_was_killed():
    container = FakeContainer([err(COMPILED), out(b"tick\n"), Hang()])
    run = fake_sandbox(container).start("int main(void){for(;;);}", "c")
    for event in run.events():
        if getattr(event, "text", None) == "tick\n":
            run.cancel()
    result = run.result
    assert result.verdict is Verdict.CANCELLED
    assert (result.exit_code, result.signal, result.cpu_seconds) == (None, "SIGKILL", None)
