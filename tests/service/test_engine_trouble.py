"""The server outlives its engine's troubles: with no engine it starts, says so on
/health and answers runs with 503 and the fix; when the engine goes away mid-run and
comes back, the runs in flight end, the server stays up, and runs work again.

The engine "restarts" behind a small proxy on a socket of this test's own (DOCKER_HOST
points the server at it): stopping the proxy cuts every connection to the engine, as a
restart does, without disturbing the real engine that other tests and people use."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from .conftest import wait_until

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
    # The run in flight ends (how it ended, the engine could not finish saying).
    assert last["event"] in ("finished", "failed")
    assert server.client.get("/health").json()["engine"]["reachable"] is False
    down = server.post("/run", {"code": "print(1)"})
    assert down.status_code in (200, 503) and "Traceback" not in down.text, down.text
    proxy.start()                                         # ... and is back
    assert server.client.get("/health").status_code == 200

    def works() -> bool:
        answer = server.post("/run", {"code": "print('after')"})
        return answer.status_code == 200 and answer.json()["output"] == "after\n"

    assert wait_until(works, timeout=30, every=0.5), server.stderr()
    assert server.process.poll() is None
