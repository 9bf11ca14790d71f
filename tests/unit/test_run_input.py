"""A run's standard input when it is interactive, and its container released whatever
way the run ends. Played back by a fake backend, no Docker."""

import pytest

from runner import BUILTIN, LimitError, Limits, Output, SandboxError, Started, Stats, Verdict
from runner.run import Run

from .fake_backend import AwaitInput, Fail, FakeContainer, Hang, err, fake_sandbox, finish, out, sample


def header(container: FakeContainer, source: bytes) -> bytes:
    return f"{container.nonce} {len(source)}\n".encode() + source


def test_input_sent_before_the_program_is_handed_over_follows_it_in_order():
    container = FakeContainer([AwaitInput(), *finish(code=0)])
    run = fake_sandbox(container).start("print(input())", "python", stdin="first\n", interactive=True)
    run.send_input("a\n")
    run.send_input(b"b\n")
    run.close_input()
    assert container.writes == []   # held until the program has gone
    result = [e for e in run.events()][-1].result
    assert container.writes == [(header(container, b"print(input())") + b"first\n", False),
                                (b"a\n", False), (b"b\n", False), (b"", True)]
    assert container.stdin == b"first\na\nb\n" and result.verdict is Verdict.OK


def test_input_typed_while_it_runs_reaches_the_program():
    script = [err(sample(0, stdin_wait=1)), AwaitInput(b"ada\n"), out(b"hello ada\n"),
              err(sample(250, stdin_wait=1)), AwaitInput(), *finish(code=0)]
    container = FakeContainer(script)
    run = fake_sandbox(container).start("print(input())", "python", interactive=True)
    events = []
    for event in run.events():
        events.append(event)
        if isinstance(event, Stats) and event.reading_input:
            if not any(isinstance(e, Output) for e in events):
                run.send_input("ada\n")
            else:
                run.close_input()
    assert container.writes[1:] == [(b"ada\n", False), (b"", True)]
    assert [e.text for e in events if isinstance(e, Output)] == ["hello ada\n"]
    assert events[-1].result.verdict is Verdict.OK


def test_an_interactive_run_keeps_its_input_open():
    container = FakeContainer([*finish(code=0)])
    list(fake_sandbox(container).start("print(1)", "python", interactive=True).events())
    assert container.writes == [(header(container, b"print(1)"), False)] and not container.input_ended


def test_a_run_given_its_input_whole_refuses_more():
    container = FakeContainer([*finish(code=0)])
    run = fake_sandbox(container).start("print(1)", "python", stdin="x")
    with pytest.raises(ValueError, match="not interactive"):
        run.send_input("more")
    with pytest.raises(ValueError, match="not interactive"):
        run.close_input()
    list(run.events())
    assert container.writes == [(header(container, b"print(1)") + b"x", True)]


# --- the container is released whatever way the run ends --------------------------------

@pytest.mark.parametrize("script, exit_code, verdict", [
    ([out(b"x"), *finish(code=0)], None, Verdict.OK),
    ([*finish(signal=11)], None, Verdict.SIGNAL),
    ([out(b"x" * 5000), Hang()], None, Verdict.OUTPUT_LIMIT),
    ([out(b"partial")], 137, Verdict.ERROR),
], ids=["ok", "signal", "output cut", "no report"])
def test_released_once_when_the_run_ends(script, exit_code, verdict):
    container = FakeContainer(script, exit_code=exit_code)
    run = fake_sandbox(container).start("print(1)", "python", Limits(output=1024))
    assert list(run.events())[-1].result.verdict is verdict
    assert container.releases == 1


def test_released_when_reading_fails():
    container = FakeContainer([out(b"x"), Fail(ConnectionResetError("the engine went away"))])
    events = []
    with pytest.raises(ConnectionResetError, match="the engine went away"):
        for event in fake_sandbox(container).start("print(1)", "python").events():
            events.append(event)
    assert isinstance(events[0], Started) and container.releases == 1


def test_released_when_the_caller_stops_reading():
    container = FakeContainer([out(b"x"), Hang()])
    events = fake_sandbox(container).start("print(1)", "python").events()
    assert isinstance(next(events), Started)
    events.close()
    assert container.releases == 1


def test_released_when_cancelled_before_and_during_the_run():
    before = FakeContainer([Hang()])
    run = fake_sandbox(before).start("print(1)", "python")
    run.cancel()
    list(run.events())
    during = FakeContainer([out(b"x"), Hang()])
    run = fake_sandbox(during).start("print(1)", "python")
    for event in run.events():
        if isinstance(event, Output):
            run.cancel()
    assert (before.releases, during.releases, during.kills) == (1, 1, 1)


def test_no_container_is_asked_for_when_the_engine_refuses_the_limits():
    container = FakeContainer([*finish(code=0)])
    sandbox = fake_sandbox(container, check_error=LimitError("cpus 4 is more than this host has (2)"))
    with pytest.raises(LimitError, match="more than this host has"):
        sandbox.start("print(1)", "python")
    assert sandbox.backend.asked == [] and container.writes == []    # type: ignore[attr-defined]


def test_released_when_the_container_cannot_start():
    container = FakeContainer([*finish(code=0)], start_error=SandboxError("Docker could not start the container"))
    run = fake_sandbox(container).start("print(1)", "python")
    with pytest.raises(SandboxError, match="could not start"):
        list(run.events())
    assert container.releases == 1 and container.writes == []


def test_a_container_that_could_not_be_made_leaves_nothing_to_release():
    sandbox = fake_sandbox(container_error=SandboxError("Docker refused to create the container"))
    run = sandbox.start("print(1)", "python")
    with pytest.raises(SandboxError, match="refused to create"):
        list(run.events())
    assert run.result is None


def test_a_run_made_directly_releases_its_container_too():
    container = FakeContainer([out(b"hi\n"), *finish(code=0)])
    run = Run(lambda: container, language=BUILTIN["bash"], source=b"echo hi", limits=Limits())
    result = [e for e in run.events()][-1].result
    assert (result.verdict, result.output, result.language) == (Verdict.OK, "hi\n", "bash")
    assert container.releases == 1 and run.result == result
