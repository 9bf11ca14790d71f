"""What a run tells its caller and in what order, what it hands the init, and the figures
it gathers from the init's samples and report: played back by a fake backend, no Docker."""

import asyncio
import contextlib
import time

from runner import Finished, Limits, Output, Phase, Started, Stats, Verdict
from runner.units import MiB

from .fake_backend import (
    FakeContainer,
    Hang,
    Pause,
    done,
    end,
    engine_stats,
    err,
    fake_sandbox,
    finish,
    out,
    play,
    sample,
    together,
)

PYTHON_SCRIPT = [
    err(sample(0, cpu_ns=0, memory=1 * MiB, pids=1, stdin_wait=0)),
    out(b"one\n"),
    err(sample(250, cpu_ns=125_000_000, memory=3 * MiB, pids=2, stdin_wait=0)),
    out(b"two\n"),
    *finish(code=0, elapsed_ms=300, peak=3 * MiB + 512 * 1024, cpu_ns=150_000_000),
]


def test_events_come_in_order_and_one_finished_ends_them():
    events, container = play(list(PYTHON_SCRIPT), source="print('one'); print('two')")
    limits = Limits(runtime="runc")       # the fake engine's only runtime: the one a default run gets
    assert events[:-1] == [
        Started(container.id, "python", "runc", limits),
        Stats(elapsed_s=0.0, cpu_percent=None, memory_bytes=1 * MiB, pids=1, reading_input=False),
        Output("stdout", "one\n"),
        # CPU % of one core, from the two samples' deltas: 125 ms of CPU in 250 ms.
        Stats(elapsed_s=0.25, cpu_percent=50.0, memory_bytes=3 * MiB, pids=2, reading_input=False),
        Output("stdout", "two\n"),
    ]
    result = events[-1].result
    assert (result.verdict, result.output, result.error) == (Verdict.OK, "one\ntwo\n", "")
    assert (result.duration_s, result.peak_memory_bytes, result.cpu_seconds) == (0.3, 3 * MiB + 512 * 1024, 0.15)
    assert (result.language, result.runtime, result.limits) == ("python", "runc", limits)


def test_the_run_hands_the_init_its_header_source_and_input_then_end_of_file():
    source = "print(input())  # é"
    _, container = play([*finish(code=0)], source=source, stdin="ada\n")
    nonce = container.nonce
    assert len(nonce) == 32 and int(nonce, 16) >= 0
    assert container.preamble == f"{nonce} {len(source.encode())}".encode()
    assert (container.source, container.stdin) == (source.encode(), b"ada\n")
    # One write, and end of file with it: the run is not interactive.
    assert container.writes == [(f"{nonce} {len(source.encode())}\n".encode() + source.encode() + b"ada\n", True)]
    assert container.starts >= 1 and container.releases == 1


def test_every_run_has_a_nonce_of_its_own():
    first, second = FakeContainer([*finish(code=0)]), FakeContainer([*finish(code=0)])
    sandbox = fake_sandbox(first, second)
    sandbox.run("print(1)", "python")
    sandbox.run("print(1)", "python")
    assert first.nonce != second.nonce


def test_a_compiled_language_says_compiling_then_running():
    script = [
        err(sample(0, cpu_ns=0, memory=60 * MiB, pids=3)),
        err(b"main.c:2:5: warning: unused variable 'x'\n"),
        err(end("compile", code=0, elapsed_ms=700, peak=80 * MiB)),
        err(sample(0, cpu_ns=0, memory=2 * MiB, pids=1)),
        out(b"42\n"),
        *finish(code=0, elapsed_ms=10, peak=-1),
    ]
    events, container = play(script, source="int main(void){int x; return 0;}", language="c")
    assert events[:-1] == [
        Started(container.id, "c", "runc", Limits(runtime="runc")),
        Phase("compiling"),
        Stats(elapsed_s=0.0, cpu_percent=None, memory_bytes=60 * MiB, pids=3, reading_input=None),
        Output("stderr", "main.c:2:5: warning: unused variable 'x'\n"),   # before the phase moves on
        Phase("running"),
        Stats(elapsed_s=0.0, cpu_percent=None, memory_bytes=2 * MiB, pids=1, reading_input=None),
        Output("stdout", "42\n"),
    ]
    result = events[-1].result
    assert result.verdict is Verdict.OK and not result.compile_failed
    # The compiler's memory is not the program's: the run's own samples give the peak.
    assert (result.peak_memory_bytes, result.duration_s) == (2 * MiB, 0.01)


def test_sandbox_run_returns_the_result_and_asks_the_backend_for_the_run():
    container = FakeContainer([out(b"hi\n"), *finish(code=0)])
    sandbox = fake_sandbox(container)
    limits = Limits(memory=64 * MiB, timeout=3)
    result = sandbox.run("print('hi')", "py", limits)
    # The runtime left to the engine is its default (the fake's only one) for the
    # container asked for and the result alike.
    ran = limits.with_(runtime="runc")
    assert (result.verdict, result.output, result.limits, result.runtime) == (Verdict.OK, "hi\n", ran, "runc")
    [(language, asked)] = sandbox.backend.asked
    assert (language.name, asked) == ("python", ran)
    assert container.releases == 1


async def test_sandbox_stream_gives_the_same_events_to_asyncio():
    container = FakeContainer(list(PYTHON_SCRIPT))
    events = [event async for event in fake_sandbox(container).stream("print(1)", "python")]
    expected, _ = play(list(PYTHON_SCRIPT))
    assert [type(e) for e in events] == [type(e) for e in expected]
    assert [e for e in events if isinstance(e, (Output, Stats))] == \
        [e for e in expected if isinstance(e, (Output, Stats))]
    assert events[-1].result.output == "one\ntwo\n" and container.releases == 1
    assert container.kills == 0       # a run that ended by itself is not killed afterwards


async def test_leaving_a_stream_early_cancels_its_run():
    container = FakeContainer([out(b"tick\n"), Hang()])
    async with contextlib.aclosing(fake_sandbox(container).stream("print(1)", "python")) as stream:
        async for event in stream:
            if isinstance(event, Output):
                break
    assert container.kills == 1 and container.releases == 1


async def test_cancelling_the_consuming_task_cancels_the_run():
    container = FakeContainer([out(b"tick\n"), Hang()])
    seen = asyncio.Event()

    async def consume():
        async for event in fake_sandbox(container).stream("print(1)", "python"):
            if isinstance(event, Output):
                seen.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(seen.wait(), 5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled() and container.kills == 1 and container.releases == 1


def test_pieces_of_one_read_leave_as_one_event_per_stream_in_order():
    script = [together(out(b"a"), out(b"b"), err(b"c"), out(b"d"), err(sample(0, memory=1))), *finish(code=0)]
    events, _ = play(script)
    assert [e for e in events if isinstance(e, Output)] == \
        [Output("stdout", "ab"), Output("stderr", "c"), Output("stdout", "d")]


def test_output_is_handed_on_while_the_program_is_quiet():
    container = FakeContainer([out(b"first\n"), Pause(1.0), out(b"second\n"), *finish(code=0)])
    arrivals = []
    for event in fake_sandbox(container).start("print(1)", "python").events():
        if isinstance(event, Output):
            arrivals.append((event.text, time.monotonic()))
    [(first, at_first), (second, at_second)] = arrivals
    assert (first, second) == ("first\n", "second\n")
    # The first did not wait for the pause to end. A wide margin: the batching's own
    # delay (tens of ms) and a busy CI machine must not make it fail (0.3 s and 0.25 once did).
    assert at_second - at_first >= 0.5


def test_a_flood_becomes_a_few_large_events():
    chunk = b"x" * 4096
    events, _ = play([out(chunk) for _ in range(64)] + [*finish(code=0)])
    outputs = [e for e in events if isinstance(e, Output)]
    assert "".join(e.text for e in outputs) == "x" * (64 * 4096)
    assert len(outputs) <= 8   # 64 reads: batched by size (64 KiB) and time, never one each


def test_reading_input_from_the_init_samples():
    script = [err(sample(0, stdin_wait=1)), err(sample(250, stdin_wait=0)), err(sample(500)), *finish(code=0)]
    events, _ = play(script)
    assert [e.reading_input for e in events if isinstance(e, Stats)] == [True, False, None]


def test_cpu_seconds_and_peak_from_the_programs_own_rusage_where_there_is_no_cgroup():
    report = dict(code=0, cpu_ns=-1, rusage_cpu_ns=250_000_000, peak=-1, memory=-1, maxrss_kb=10240)
    result = play([*finish(**report)])[0][-1].result
    assert (result.cpu_seconds, result.peak_memory_bytes) == (0.25, 10 * MiB)


def test_the_time_the_cpu_limit_held_it_back_is_the_reports():
    result = play([err(sample(0, throttled_ns=100_000_000)), *finish(code=0, throttled_ns=1_234_567_890)])[0][-1].result
    assert result.cpu_throttled_s == 1.235
    unknown = play([*finish(code=0)])[0][-1].result
    assert unknown.cpu_throttled_s is None          # no cgroup to read: not "never held back"


def test_peak_from_the_samples_when_the_report_has_none():
    script = [err(sample(0, memory=4 * MiB)), err(sample(250, memory=9 * MiB)), err(sample(500, memory=6 * MiB)),
              *finish(code=0, peak=-1, maxrss_kb=1024)]
    assert play(script)[0][-1].result.peak_memory_bytes == 9 * MiB


def test_the_engines_stats_fill_in_what_the_samples_lack():
    host = engine_stats(peak=40 * MiB, memory=30 * MiB, pids=4, cpu_percent=12.5)
    script = [err(sample(0)), err(sample(250, memory=20 * MiB)),
              *finish(code=0, cpu_ns=-1, rusage_cpu_ns=1_000_000, peak=-1, maxrss_kb=10240, oom_kills=-1)]
    events, container = play(script, host_stats=host)
    assert [e for e in events if isinstance(e, Stats)] == [
        Stats(elapsed_s=0.0, cpu_percent=12.5, memory_bytes=30 * MiB, pids=4, reading_input=None),
        Stats(elapsed_s=0.25, cpu_percent=12.5, memory_bytes=20 * MiB, pids=4, reading_input=None),
    ]
    # The engine saw more than the program's own maxrss (10 MiB): its peak is kept.
    assert events[-1].result.peak_memory_bytes == 40 * MiB
    assert container.exit_facts_asked == [False]   # no oom_kills from the init: the engine is asked


def test_the_reports_peak_stands_when_the_engine_saw_less():
    host = engine_stats(peak=5 * MiB)
    result = play([*finish(code=0, peak=50 * MiB)], host_stats=host)[0][-1].result
    assert result.peak_memory_bytes == 50 * MiB


def test_exactly_one_finished_and_it_is_last():
    for script in ([*finish(code=0)], [out(b"x")], [err(sample(0)), *finish(signal=11)]):
        events, _ = play(script, exit_code=1)
        assert [isinstance(e, Finished) for e in events].count(True) == 1 and isinstance(events[-1], Finished)
        assert isinstance(events[0], Started)


def test_the_done_records_end_the_run_before_the_container_is_gone():
    # Docker's streams close only once the container is torn down: D on both says enough.
    events, container = play([out(b"x"), *finish(code=0), Hang()], limits=Limits(timeout=1))
    assert events[-1].result.verdict is Verdict.OK and events[-1].result.output == "x"
    assert container.kills == 0


def test_one_done_record_is_not_enough():
    # stdout is done, stderr still brings the report and a last sample.
    script = [out(b"x"), out(done()), Pause(0.1), err(b"late\n"), *finish(code=4)[::2]]
    result = play(script)[0][-1].result
    assert (result.exit_code, result.error) == (4, "late\n")


def test_a_watched_call_refused_is_a_wall_at_once_then_its_final_count():
    from runner import Blocked

    from .fake_backend import wall

    script = [err(wall("mount", 1, t_ms=5)), out(b"after\n"), err(sample(250, pids_refused=0)),
              err(wall("mount", 40, t_ms=5)), *finish(code=0, calls_watched=23, pids_refused=0)]
    events, _ = play(script)
    walls = [event for event in events if isinstance(event, Blocked)]
    assert [(w.wall, w.call, w.errno, w.exact, w.at_s, w.count) for w in walls] == [
        ("syscall", "mount", "EPERM", True, 0.005, 1), ("syscall", "mount", "EPERM", True, 0.005, 40)]
    assert events.index(walls[0]) < next(i for i, e in enumerate(events) if isinstance(e, Output))
    result = events[-1].result
    assert result.blocked == (walls[-1],) and result.walls_watched == ("process", "syscall")


def test_network_walls_keep_their_target_and_whether_the_errno_was_predicted():
    from runner import Blocked

    from .fake_backend import network_wall

    script = [err(network_wall("connect", "93.184.216.34:80/tcp", 1, t_ms=7)),
              err(network_wall("dns", "example.com", 2, errno="EAI_AGAIN", exact=1, t_ms=9)),
              err(network_wall("connect", "93.184.216.34:80/tcp", 3, t_ms=7)),
              *finish(code=0, net_watched=1, pids_refused=0)]
    events, _ = play(script)
    walls = [event for event in events if isinstance(event, Blocked)]
    assert [(w.wall, w.call, w.target, w.errno, w.exact, w.count) for w in walls] == [
        ("network", "connect", "93.184.216.34:80/tcp", "ENETUNREACH", False, 1),
        ("network", "dns", "example.com", "EAI_AGAIN", True, 2),
        ("network", "connect", "93.184.216.34:80/tcp", "ENETUNREACH", False, 3)]
    result = events[-1].result
    assert result.walls_watched == ("network", "process")
    assert [wall.count for wall in result.blocked] == [3, 2]


def test_a_run_that_watched_nothing_says_so():
    result = play([*finish(code=0)])[0][-1].result
    assert result.blocked is None and result.walls_watched == ()
