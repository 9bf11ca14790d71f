"""A run's container lives only as long as someone wants the run: a client that goes
away, a DELETE, or the server's own SIGTERM ends it and removes its container. And
`tui-sandbox history` shows afterwards what ran."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

from runner.docker.cleanup import reap_stale_containers

from .conftest import ROOT, container_gone, wait_until

LOOP = {"code": "print('spinning', flush=True)\nwhile True: pass", "timeout": 30}


def started_container(lines) -> tuple[str, str]:
    """Read a stream until its run has started: (run id, container id)."""
    for line in lines:
        event = json.loads(line)
        if event["event"] == "started":
            return event["id"], event["container_id"]
    raise AssertionError("the stream ended before the run started")


def test_closing_the_stream_cancels_the_run_and_removes_its_container(serve, sandbox):
    server = serve()
    with server.stream(LOOP) as stream:
        run_id, container = started_container(stream.iter_lines())
        assert not container_gone(sandbox, container)
    # The connection is closed: the run is cancelled, its container removed, well before its timeout.
    assert wait_until(lambda: container_gone(sandbox, container), timeout=10)
    row = wait_until(lambda: server.client.get(f"/runs/{run_id}").json().get("verdict"), timeout=10)
    assert row == "cancelled"


def test_a_client_gone_from_post_run_cancels_it_too(serve, sandbox):
    server = serve()
    body = json.dumps(LOOP).encode()
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"POST /run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        assert wait_until(lambda: server.client.get("/health").json()["queue"]["running"] == 1)
        runs = server.client.get("/runs").json()["runs"]
        assert runs[0]["state"] == "running"
    began = time.monotonic()
    assert wait_until(lambda: server.client.get(f"/runs/{runs[0]['id']}").json()["verdict"] == "cancelled",
                      timeout=10)
    assert time.monotonic() - began < 10          # not the run's own 30 s
    assert wait_until(lambda: server.client.get("/health").json()["queue"]["running"] == 0)


def test_sigterm_mid_run_ends_runs_removes_containers_and_exits(serve, sandbox):
    server = serve("--max-running", "1")
    with server.stream(LOOP, headers={"X-Sandbox-User": "ada"}) as running, \
            server.stream({"code": "print('never')"}, headers={"X-Sandbox-User": "bob"}) as waiting:
        running_lines, waiting_lines = running.iter_lines(), waiting.iter_lines()
        run_id, container = started_container(running_lines)
        waiting_id = json.loads(next(waiting_lines))["id"]
        assert server.containers(sandbox)
        began = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        # Each client hears its run end, cancelled, before the server goes.
        ends = [json.loads(line) for line in running_lines][-1], [json.loads(line) for line in waiting_lines][-1]
        status = server.process.wait(30)
    assert time.monotonic() - began < 15
    assert status in (0, -signal.SIGTERM), server.stderr()
    assert [end["verdict"] for end in ends] == ["cancelled", "cancelled"]
    assert ends[1]["kill_reason"] == "Cancelled: the server is stopping"
    assert container_gone(sandbox, container)
    assert server.containers(sandbox) == []       # spares too
    assert "Traceback" not in server.stderr()
    # Both runs are in the history, read straight from the file.
    listed = subprocess.run([sys.executable, "-m", "tui_sandbox", "history", "--json", "--history",
                             str(server.history)], capture_output=True, text=True, cwd=ROOT, timeout=30)
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows[run_id]["verdict"] == rows[waiting_id]["verdict"] == "cancelled"


def test_sigkill_leaves_no_run_past_its_deadline(serve, sandbox):
    server = serve()
    with server.stream({"code": "print('up', flush=True)\nwhile True: pass", "timeout": 3}) as stream:
        lines = stream.iter_lines()
        _, container = started_container(lines)
        launched = time.monotonic()
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    # Nobody is left to kill it: the sandbox's own init ends it at its 3 s deadline, and
    # Docker removes it.
    assert wait_until(lambda: container_gone(sandbox, container), timeout=15)
    assert time.monotonic() - launched < 10
    # Its warm spares end once idle; the next tui-sandbox to start removes them sooner.
    reap_stale_containers(sandbox.backend.api)


def history(*args: str, path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui_sandbox", "history", "--history", str(path), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=30)


def test_tui_sandbox_history_lists_and_shows_the_runs(serve, tmp_path):
    server = serve()
    ok = server.run({"code": "print('hello from ada')"}, headers={"X-Sandbox-User": "ada"})
    oom = server.run({"code": "x = ' ' * 2**30", "memory": "64m"}, headers={"X-Sandbox-User": "bob"})
    js = server.run({"code": "console.log(1)", "language": "js"}, headers={"X-Sandbox-User": "ada"})
    table = history(path=server.history)
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "TIME", "USER", "LANGUAGE", "VERDICT", "DURATION"]
    assert [line.split()[0] for line in lines[1:]] == [js["id"], oom["id"], ok["id"]]     # newest first
    assert lines[2].split()[3:6] == ["bob", "python", "oom"]
    assert [r["id"] for r in json.loads(history("--user", "ada", "--json", path=server.history).stdout)] == [
        js["id"], ok["id"]]
    only_oom = history("--verdict", "oom", "--limit", "5", path=server.history).stdout.splitlines()
    assert len(only_oom) == 2 and oom["id"] in only_oom[1]
    full = history(ok["id"], path=server.history)
    assert full.returncode == 0
    assert f"run {ok['id']}: ok: Finished normally" in full.stdout
    assert "user ada (from http) · python · crun" in full.stdout      # no runtime named: the engine's default
    assert "── source\nprint('hello from ada')\n── output\nhello from ada" in full.stdout
    assert json.loads(history(oom["id"], "--json", path=server.history).stdout)["kill_reason"] == oom["kill_reason"]
    missing = history("nope", path=server.history)
    assert missing.returncode == 1 and "no run nope" in missing.stderr
    empty = history(path=tmp_path / "none.sqlite3")
    assert empty.returncode == 0 and "no runs yet" in empty.stdout
