"""Every verdict, from real programs in real containers, under every runtime that
scripts/docker-engine.sh registers: runc, gVisor (runsc) and crun must say the same thing
about the same program."""

import pytest

from runner import Limits, Verdict
from runner.units import MiB

from .runtimes import RUNTIMES


@pytest.fixture(params=RUNTIMES)
def runtime(request):
    return request.param


@pytest.fixture
def run(sandbox, runtime):
    """run(source, language="python", stdin=None, **limit changes) under this module's runtime."""

    def _run(source: str, language: str = "python", stdin=None, **changes):
        return sandbox.run(source, language, Limits(runtime=runtime).with_(**changes), stdin=stdin)

    return _run


def test_hello_world_is_ok_with_output_and_figures(run, runtime):
    result = run('print("hello"); import sys; print("oops", file=sys.stderr)')
    assert result.verdict is Verdict.OK
    assert result.exit_code == 0 and result.signal is None
    assert result.output == "hello\n"
    assert result.error == "oops\n"
    assert result.kill_reason == "Finished normally"
    assert 0 < result.duration_s < 5
    assert result.peak_memory_bytes and result.peak_memory_bytes > 100 * 1024
    assert result.truncated is False
    assert result.language == "python" and result.runtime == runtime


def test_infinite_loop_times_out_at_the_limit(run):
    result = run("while True: pass", timeout=1.5)
    assert result.verdict is Verdict.TIMEOUT
    assert result.kill_reason == "Timed out after 1.5 s and was killed"
    assert 1.4 <= result.duration_s <= 2.5


def test_a_one_gigabyte_string_is_an_oom_kill(run):
    result = run('s = " " * (1024 ** 3)\nprint("never")')
    assert result.verdict is Verdict.OOM
    assert result.signal == "SIGKILL"
    assert result.kill_reason == "Out of memory: killed at the 128 MiB limit"
    assert result.output == ""
    assert result.peak_memory_bytes >= 100 * MiB


def test_growing_memory_is_an_oom_kill_at_a_custom_limit(run):
    result = run("xs = []\nwhile True: xs.append(bytearray(10**6))", memory=64 * MiB)
    assert result.verdict is Verdict.OOM
    assert "64 MiB" in result.kill_reason


def test_exit_137_on_its_own_is_an_error_not_an_oom(run):
    result = run("import sys; sys.exit(137)")
    assert result.verdict is Verdict.ERROR
    assert result.exit_code == 137 and result.signal is None
    assert result.kill_reason == "Exited with status 137"


def test_a_program_killed_by_sigkill_is_a_signal_not_an_oom(run):
    result = run("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert result.verdict is Verdict.SIGNAL
    assert result.signal == "SIGKILL"


def test_nonzero_exit_is_an_error_with_the_traceback(run):
    result = run("raise ValueError('bad value')")
    assert result.verdict is Verdict.ERROR
    assert result.exit_code == 1
    assert "ValueError: bad value" in result.error


def test_python_memory_error_is_explained(run):
    result = run("x = bytearray(2 ** 50)")
    assert result.verdict is Verdict.ERROR
    assert result.exit_code == 1
    assert "MemoryError" in result.kill_reason


def test_c_segfault_is_a_signal(run):
    result = run("int main(void) { volatile int *p = 0; return *p; }", "c")
    assert result.verdict is Verdict.SIGNAL
    assert result.signal == "SIGSEGV"
    assert result.kill_reason.startswith("Killed by SIGSEGV (segmentation fault")


def test_c_compiles_and_runs(run):
    result = run('#include <stdio.h>\n#include <math.h>\nint main(void){printf("%.1f\\n", sqrt(16.0)); return 3;}', "c")
    assert result.verdict is Verdict.ERROR and result.exit_code == 3
    assert result.output == "4.0\n"
    assert not result.compile_failed


def test_c_compile_failure_is_reported_with_the_compiler_message(run):
    result = run("int main(void) { return undefined_name; }", "c")
    assert result.verdict is Verdict.ERROR
    assert result.compile_failed
    assert result.kill_reason.startswith("Compilation failed")
    assert "undefined_name" in result.error and "error" in result.error


def test_node_heap_limit_crash_is_an_oom_with_its_own_reason(run):
    result = run("const a = []; while (true) a.push(new Array(100000).fill(1));", "javascript")
    assert result.verdict is Verdict.OOM
    assert "Node.js reached its heap limit" in result.kill_reason


def test_javascript_and_bash_run(run):
    assert run("console.log(6 * 7)", "javascript").output == "42\n"
    result = run('echo "$((6 * 7))"; exit 4', "bash")
    assert result.output == "42\n" and result.exit_code == 4


def test_output_flood_is_cut_at_the_cap(run):
    result = run('while True: print("x" * 99)', output=64 * 1024)
    assert result.verdict is Verdict.OUTPUT_LIMIT
    assert result.truncated
    assert result.kill_reason == "Output passed 64 KiB and was cut off"
    assert len(result.output.encode()) + len(result.error.encode()) == 64 * 1024
    assert result.signal == "SIGKILL"


def test_output_cap_counts_stdout_and_stderr_together(run):
    # stderr's 8 KiB first, then a pause, then a flood of stdout: the cap counts both. (The
    # two pipes are read in no fixed order: flooded together, the first read of stdout
    # could take the whole cap, as seen under crun.)
    result = run('import sys, time\nsys.stderr.write("e" * 8191 + "\\n")\nsys.stderr.flush()\n'
                 'time.sleep(0.3)\nfor _ in range(2000):\n    print("o" * 9)', output=16 * 1024)
    assert result.verdict is Verdict.OUTPUT_LIMIT
    assert len(result.output) + len(result.error) == 16 * 1024
    assert result.error == "e" * 8191 + "\n" and result.output.startswith("ooooooooo\n")


def test_output_just_under_the_cap_is_ok(run):
    result = run('print("y" * 1022)', output=1024)   # 1023 bytes with the newline
    assert result.verdict is Verdict.OK and not result.truncated


def test_a_fork_bomb_is_held_by_the_pids_limit(run):
    source = """
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except OSError as e:
    print("forks:", n, e.errno)
"""
    result = run(source, pids=32, memory=512 * MiB)
    assert result.verdict is Verdict.OK
    forks, errno = result.output.split()[1:]
    assert int(forks) <= 30 and errno == "11"   # EAGAIN: the limit, not memory
    assert result.duration_s < 10               # the sleeping children did not keep it alive


def test_stdin_reaches_the_program_and_ends(run):
    result = run("import sys; data = sys.stdin.read(); print(len(data), data.upper())", stdin="abc\n")
    assert result.output == "4 ABC\n\n"
    assert run("import sys; print(repr(sys.stdin.read()))").output == "''\n"


def test_large_stdin_does_not_deadlock(run):
    data = "z" * (2 * 1024 * 1024)
    result = run("import sys; print(len(sys.stdin.read()))", stdin=data, output=4 * 1024 * 1024)
    assert result.output == f"{len(data)}\n"


def test_unicode_output_split_across_writes_is_intact(run):
    result = run('import sys\nfor _ in range(3000): sys.stdout.write("héllo wörld ☃ ")\n')
    assert result.output == "héllo wörld ☃ " * 3000


def test_all_stdout_arrives_though_the_report_on_stderr_may_come_first(run):
    # Docker copies stdout and stderr apart: the run ends only when both say they are done.
    for _ in range(3):
        result = run('import sys\nsys.stdout.write("s" * 700_000)\nsys.stderr.write("e" * 50_000)')
        assert result.verdict is Verdict.OK
        assert len(result.output) == 700_000 and len(result.error) == 50_000


def test_output_of_exactly_the_cap_is_ok_and_one_byte_more_is_cut(run):
    exact = run('import sys\nsys.stdout.write("x" * 65536)', output=64 * 1024)
    assert exact.verdict is Verdict.OK and len(exact.output) == 65536 and not exact.truncated
    over = run('import sys\nsys.stdout.write("x" * 65537)', output=64 * 1024)
    assert over.verdict is Verdict.OUTPUT_LIMIT and len(over.output) == 65536 and over.truncated


def test_the_time_the_cpu_limit_held_a_program_back(run, runtime):
    """A program that wants a whole core for 1.5 s under --cpus 0.5 waits about half of it;
    a hello world waits for nothing. Under gVisor the cgroup cannot be read from inside:
    unknown (None), never a 0 that would read as 'never held back'."""
    busy = run("import time\nend = time.time() + 1.5\nwhile time.time() < end: pass\n", cpus=0.5)
    hello = run("print(1)")
    if runtime == "runsc":
        assert busy.cpu_throttled_s is None and hello.cpu_throttled_s is None
        return
    assert busy.verdict is Verdict.OK and 0.3 < busy.cpu_throttled_s < 1.5, busy
    assert hello.cpu_throttled_s is not None and hello.cpu_throttled_s < 0.1, hello
