"""The app's client of a remote service (tui_sandbox/remote.py) against the real server:
the same events as the local engine, the place in line while it waits, typing into a
running program, cancelling, and the server's refusals in its own words."""

from __future__ import annotations

import threading

import pytest

from runner import Finished, LimitError, Limits, Output, Queued, SourceError, Started, Verdict
from tui_sandbox.remote import RemoteSandbox


def events_of(run) -> list:
    return list(run.events())


def test_a_run_over_http_gives_the_engines_events(serve):
    server = serve("--max-running", "1")
    remote = RemoteSandbox(server.url, user="ada")
    try:
        assert "runc" in remote.info.runtimes and remote.ceilings["timeout_s"] == 60
        log = [e for e in events_of(remote.start("print('over http')", "python", Limits()))
               if not isinstance(e, Queued)]   # every run is queued first, if only for a moment
        assert isinstance(log[0], Started) and isinstance(log[-1], Finished)
        result = log[-1].result
        assert result.verdict is Verdict.OK and result.output == "over http\n"
        # No runtime named: the server's engine chose its default, and the result says which.
        assert result.limits == Limits(runtime="crun") and result.runtime == log[0].runtime == "crun"
        assert "".join(e.text for e in log if isinstance(e, Output)) == "over http\n"
    finally:
        remote.close()


def test_waiting_runs_hear_their_place_and_interactive_input_arrives(serve):
    server = serve("--max-running", "1")
    blocker_side, student = RemoteSandbox(server.url, user="blocker"), RemoteSandbox(server.url, user="ada")
    try:
        blocker = blocker_side.start("import time; time.sleep(1.5)", "python", Limits())
        running = threading.Event()

        def follow_the_blocker() -> None:
            for event in blocker.events():
                if isinstance(event, Started):
                    running.set()

        blocking = threading.Thread(target=follow_the_blocker)
        blocking.start()
        assert running.wait(30), "the blocker never started"    # it holds the one place now
        run = student.start('print("Hello,", input("Name? "))', "python", Limits(), interactive=True)
        log = []
        for event in run.events():
            log.append(event)
            if isinstance(event, Queued) and len(log) == 1:
                run.send_input("Ada\n")    # typed while it still waits: kept for it
        blocking.join()
        queued = [e for e in log if isinstance(e, Queued)]
        assert queued and queued[0].position == 1 and "1st in line" in queued[0].message
        assert log[-1].result.output == "Name? Hello, Ada\n"
    finally:
        blocker_side.close()
        student.close()


def test_cancel_and_refusals(serve, sandbox):
    server = serve("--max-timeout", "5")
    remote = RemoteSandbox(server.url, user="ada")
    try:
        with pytest.raises(LimitError, match="timeout 30 s is over this server's ceiling of 5 s"):
            events_of(remote.start("print(1)", "python", Limits(timeout=30)))
        run = remote.start("import time\nprint('up', flush=True)\ntime.sleep(60)", "python", Limits(timeout=5))
        log = []
        for event in run.events():
            log.append(event)
            if isinstance(event, Output):
                run.cancel()
        assert log[-1].result.verdict is Verdict.CANCELLED
    finally:
        remote.close()


def test_every_kind_of_event_reaches_the_remote_client(serve):
    """A C run that waits its turn, compiles, prints, hits a wall (a refused unshare)
    and runs long enough for figures: every kind the engine has (runner.EVENT_KINDS,
    all but `failed`, which needs a missing engine) comes through the stream to the
    client as the engine's own."""
    from runner import EVENT_KINDS

    server = serve("--max-running", "1")
    blocker_side, remote = RemoteSandbox(server.url, user="blocker"), RemoteSandbox(server.url, user="ada")
    try:
        blocker = blocker_side.start("import time; time.sleep(1.5)", "python", Limits())
        started = threading.Event()
        blocking = threading.Thread(target=lambda: [started.set() for e in blocker.events()
                                                   if isinstance(e, Started)])
        blocking.start()
        assert started.wait(30), "the blocker never started"
        program = ('#include <stdio.h>\n#include <unistd.h>\n#include <sys/syscall.h>\n'
                   'int main(void) { puts("hi"); fflush(stdout); syscall(SYS_unshare, 0x10000000); '
                   'usleep(2500000); return 0; }\n')
        log = events_of(remote.start(program, "c", Limits()))
        blocking.join()
        assert {event.kind for event in log} == set(EVENT_KINDS) - {"failed"}, log
        assert log[-1].result.output == "hi\n"
        wall = next(event for event in log if event.kind == "blocked")
        assert (wall.wall, wall.call, wall.exact) == ("syscall", "unshare", True), wall
    finally:
        blocker_side.close()
        remote.close()


def test_every_limit_reaches_the_server_or_is_refused_there(serve):
    """The remote client sends each limit (runner.limits.LIMIT_FIELDS): the server runs with
    them, or refuses the one over its ceiling by name. It used to send 7 of the 11."""
    server = serve("--max-output-cap", "2m", "--max-open-files", "512")
    remote = RemoteSandbox(server.url, user="ada")
    try:
        asked = Limits(memory=96 << 20, cpus=0.25, pids=20, timeout=4, read_only=False, tmp_size=8 << 20,
                       output=2 << 20, file_size=1 << 20, open_files=64, runtime="runc")   # not the default
        result = events_of(remote.start("import resource\nprint(resource.getrlimit(resource.RLIMIT_NOFILE)[0])",
                                        "python", asked))[-1].result
        assert result.verdict is Verdict.OK and result.output == "64\n", result
        assert result.limits == asked
        for over, says in ((Limits(output=4 << 20), "output_cap 4 MiB is over this server's ceiling of 2 MiB"),
                           (Limits(open_files=1024), "open_files 1024 is over this server's ceiling of 512")):
            with pytest.raises(LimitError, match=says):
                events_of(remote.start("print(1)", "python", over))
    finally:
        remote.close()


def test_a_program_and_input_given_as_bytes_go_as_text(serve):
    """The engine takes a program and its input as bytes too (the report runs each
    experiment with stdin=b""), and so must the remote client, which declares the same
    Engine: it sent the bytes into the request's JSON and failed with a TypeError (found
    by mypy: its start narrowed Engine.start's types). Bytes that are not UTF-8 cannot
    go as JSON text: refused here, in words."""
    server = serve()
    remote = RemoteSandbox(server.url, user="ada")
    try:
        run = remote.start(b"import sys\nprint(repr(sys.stdin.read()))", "python", Limits(), stdin=b"caf\xc3\xa9\n")
        result = events_of(run)[-1].result
        assert result.verdict is Verdict.OK and result.output == "'café\\n'\n", result
        assert events_of(remote.start("print(1)", "python", Limits(), stdin=b""))[-1].result.output == "1\n"
        with pytest.raises(SourceError, match="the input is not UTF-8 text"):
            remote.start("print(1)", "python", Limits(), stdin=b"\xff\xfe")
    finally:
        remote.close()
