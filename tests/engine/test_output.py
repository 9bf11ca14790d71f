"""Nothing of a program's output is lost, under either runtime: the init relays it with
complete writes (gVisor answers a large write to the container's pipe with a short
one), and cuts it at the output cap, to the byte."""

from __future__ import annotations

import pytest

from runner import Verdict
from runner.units import KiB, MiB

RUNTIMES = ["runc", "runsc"]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("size", [200_000, 5_000_000])
def test_one_large_write_arrives_whole_or_is_cut_at_the_cap(run, runtime, size):
    code = f'import sys; sys.stdout.write("y" * {size})'
    whole = run(code, runtime=runtime, output=8 * MiB)
    assert whole.verdict is Verdict.OK and whole.truncated is False
    assert len(whole.output) == size and set(whole.output) == {"y"}
    capped = run(code, runtime=runtime)   # the default cap, 1 MiB
    if size <= MiB:
        assert capped.verdict is Verdict.OK and len(capped.output) == size
    else:
        assert capped.verdict is Verdict.OUTPUT_LIMIT and capped.truncated
        assert len(capped.output) == MiB
        assert capped.kill_reason == "Output passed 1 MiB and was cut off"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_many_small_writes_arrive_in_order(run, runtime):
    result = run("for i in range(20000):\n    print(i)", runtime=runtime)
    assert result.verdict is Verdict.OK
    assert result.output.splitlines() == [str(i) for i in range(20000)]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_interleaved_stdout_and_stderr_each_arrive_whole(run, runtime):
    code = ("import sys\n"
            "for i in range(200):\n"
            "    sys.stdout.write('o%d ' % i + 'x' * 3000 + '\\n')\n"
            "    sys.stderr.write('e%d ' % i + 'z' * 1000 + '\\n')\n")
    result = run(code, runtime=runtime)
    assert result.verdict is Verdict.OK
    assert [line.split()[0] for line in result.output.splitlines()] == [f"o{i}" for i in range(200)]
    assert [line.split()[0] for line in result.error.splitlines()] == [f"e{i}" for i in range(200)]
    assert len(result.output) + len(result.error) == sum(
        len(f"o{i} ") + 3001 + len(f"e{i} ") + 1001 for i in range(200))


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_flood_on_both_streams_is_cut_at_the_cap_in_total(run, runtime):
    code = ("import sys, threading\n"
            "def flood(stream):\n"
            "    while True: stream.write('f' * 65536)\n"
            "threading.Thread(target=flood, args=(sys.stderr,), daemon=True).start()\n"
            "flood(sys.stdout)\n")
    result = run(code, runtime=runtime, output=256 * KiB)
    assert result.verdict is Verdict.OUTPUT_LIMIT and result.truncated
    assert len(result.output) + len(result.error) == 256 * KiB


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_exactly_the_cap_is_within_it(run, runtime):
    result = run(f'import sys; sys.stdout.write("a" * {64 * KiB})', runtime=runtime, output=64 * KiB)
    assert result.verdict is Verdict.OK and not result.truncated and len(result.output) == 64 * KiB


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_c_and_bash_output_arrive_whole(run, runtime):
    c = run('#include <stdio.h>\n#include <string.h>\nstatic char b[3000000];\n'
            'int main(void) { memset(b, \'c\', sizeof b); fwrite(b, 1, sizeof b, stdout); return 0; }\n',
            "c", runtime=runtime, output=4 * MiB)
    assert c.verdict is Verdict.OK and len(c.output) == 3_000_000
    bash = run("for i in $(seq 1 5000); do echo line $i; done; echo done >&2", "bash", runtime=runtime)
    assert bash.verdict is Verdict.OK and len(bash.output.splitlines()) == 5000 and bash.error == "done\n"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_nothing_is_lost_when_the_reader_lags(sandbox, runtime):
    # A reader that comes late is when gVisor's pipe answered with short writes and
    # unbuffered Python dropped the rest (65,536 of 200,000 bytes arrived, verdict ok).
    import time

    from runner import Finished, Limits

    run = sandbox.start('import sys; sys.stdout.write("y" * 200_000); sys.stderr.write("e" * 100_000)',
                        "python", Limits(runtime=runtime))
    events = run.events()
    first = next(events)          # the container is up and the program under way
    time.sleep(2)                 # nobody reads meanwhile
    result = [e for e in events if isinstance(e, Finished)][0].result
    assert first.container_id
    assert result.verdict is Verdict.OK
    assert len(result.output) == 200_000 and len(result.error) == 100_000
