"""The server outlives its engine's troubles: with no engine it starts, says so on
/health and answers runs with 503 and the fix; when the engine goes away mid-run and
comes back, the runs in flight end, the server stays up, and runs work again.

The engine "restarts" behind a small proxy on a socket of this test's own (DOCKER_HOST
points the server at it): stopping the proxy cuts every connection to the engine, as a
restart does, without disturbing the real engine that other tests and people use."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading

import pytest

from ..conftest import containers_owned_by
from .conftest import ROOT, container_gone, wait_until

DOCKER_SOCKET = "/var/run/docker.sock"


class EngineProxy:
    """Forwards a unix socket to Docker's; stop() drops every connection at once."""

    def __init__(self, path) -> None:
        self.path = str(path)
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True, name="engine-proxy").start()
        self.server = None
        self.writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        async def begin():
            self.server = await asyncio.start_unix_server(self._serve, self.path)
        asyncio.run_coroutine_threadsafe(begin(), self.loop).result(10)

    def stop(self) -> None:
        async def end():
            self.server.close()
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()
        asyncio.run_coroutine_threadsafe(end(), self.loop).result(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(DOCKER_SOCKET)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
                if sink.can_write_eof():
                    sink.write_eof()          # a half-close (the end of a program's stdin) passes on
            except (ConnectionError, OSError):
                sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def test_no_engine_the_server_still_starts_and_says_why(serve, tmp_path):
    server = serve(env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    health = server.client.get("/health")
    assert health.status_code == 503 and "retry-after" in health.headers
    report = health.json()
    assert not report["ok"] and not report["engine"]["reachable"]
    assert "no Docker engine" in report["engine"]["error"] and report["engine"]["fix"]
    for path in ("/run", "/runs"):
        refused = server.post(path, {"code": "print(1)"})
        assert refused.status_code == 503 and "retry-after" in refused.headers
        assert "no Docker engine" in refused.json()["error"] and "docker" in refused.json()["fix"]
    assert {"python", "c"} <= {lang["name"] for lang in server.client.get("/languages").json()}


@pytest.fixture
def proxy(tmp_path):
    """Set up before `serve`, so torn down after the servers have stopped through it."""
    one = EngineProxy(tmp_path / "engine.sock")
    one.start()
    yield one
    one.close()


def refused_for_the_engine(answer) -> None:
    assert answer.status_code == 503 and "retry-after" in answer.headers, answer.text
    assert "Docker engine" in answer.json()["error"] and answer.json()["fix"], answer.json()


def test_an_engine_that_goes_away_and_comes_back(proxy, serve):
    server = serve("--max-running", "2", env={"DOCKER_HOST": f"unix://{proxy.path}"})
    assert server.run({"code": "print('before')"})["output"] == "before\n"
    with server.stream({"code": "print('up', flush=True)\nwhile True: pass", "timeout": 4}) as stream:
        lines = stream.iter_lines()
        for line in lines:
            if json.loads(line)["event"] == "output":
                break
        proxy.stop()                                      # the engine "restarts"
        last = [json.loads(line) for line in lines][-1]
    # The run in flight ends with the reason (how the program ended, the engine could not say).
    assert last["event"] == "failed" and "Docker engine" in last["error"] and last["fix"], last
    assert server.client.get("/health").json()["engine"]["reachable"] is False
    for path in ("/run", "/runs"):                        # while it is away: a 503 that names it
        refused_for_the_engine(server.post(path, {"code": "print(1)"}))
    proxy.start()                                         # ... and is back
    assert server.client.get("/health").status_code == 200

    def works() -> bool:
        answer = server.post("/run", {"code": "print('after')"})
        return answer.status_code == 200 and answer.json()["output"] == "after\n"

    assert wait_until(works, timeout=30, every=0.5), server.stderr()
    assert server.process.poll() is None
    assert "Traceback" not in server.stderr(), server.stderr()


def test_a_container_made_before_the_engine_went_away_is_removed_once_it_is_back(proxy, serve, sandbox):
    """Under gVisor Docker does not remove an ended container by itself: the server does,
    and a removal the engine was away for is tried again until it is back."""
    server = serve(env={"DOCKER_HOST": f"unix://{proxy.path}"})
    body = {"code": "import time; print('up', flush=True); time.sleep(30)", "runtime": "runsc", "timeout": 40}
    with server.stream(body) as stream:
        lines = stream.iter_lines()
        started = next(json.loads(line) for line in lines if json.loads(line)["event"] == "started")
        next(line for line in lines if json.loads(line)["event"] == "output")
        proxy.stop()
        last = [json.loads(line) for line in lines][-1]
    assert last["event"] == "failed", last
    assert not container_gone(sandbox, started["container_id"])     # still there, out of the server's reach
    proxy.start()
    assert wait_until(lambda: container_gone(sandbox, started["container_id"]), timeout=20), server.stderr()
    assert "Traceback" not in server.stderr(), server.stderr()


def test_run_on_an_engine_that_goes_away_is_one_line(proxy, sandbox, tmp_path):
    program = tmp_path / "spin.py"
    program.write_text("print('up', flush=True)\nwhile True: pass\n")
    run = subprocess.Popen([sys.executable, "-m", "tui_sandbox", "run", "--timeout", "5", str(program)], cwd=ROOT,
                           env={**os.environ, "DOCKER_HOST": f"unix://{proxy.path}"}, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert run.stdout.readline() == "up\n"
        proxy.stop()
        _out, err = run.communicate(timeout=60)
        assert run.returncode == 125, (run.returncode, err)
        assert "Traceback" not in err and "Docker engine" in err, err
        assert len(err.strip().splitlines()) <= 2, err          # the message, and its fix
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(10)
        # What it made through the proxy, its init ends by the deadline and Docker removes
        # (runc); whatever is left, the real engine removes here.
        for container in containers_owned_by(sandbox, run.pid):
            sandbox.backend.api.remove_container(container["Id"], force=True)
