"""The real server, as its users meet it: `tui-sandbox serve` in a process of its own on
a free loopback port, with a history of its own, spoken to over real HTTP. Each server
is stopped with SIGTERM at the end, and must leave none of its containers behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ..conftest import containers_owned_by

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30


class Server:
    """One `tui-sandbox serve` process."""

    def __init__(self, data_dir: Path, *args: str, history: Path | None = None, env: dict | None = None) -> None:
        self.data_dir = data_dir
        self.history = history or data_dir / "history.sqlite3"
        self.args = args
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "XDG_DATA_HOME": str(data_dir), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.stderr_path = data_dir / "serve.stderr"
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tui_sandbox", "serve", "--port", "0", "--history", str(self.history), *args],
                stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, cwd=ROOT, env=self.env)
        self.pid = self.process.pid
        self.line = self._first_line()
        port = int(re.search(r"http://\S+:(\d+)", self.line).group(1))
        self.url = f"http://127.0.0.1:{port}"      # also for a server bound to every address
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def _first_line(self) -> str:
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.append(self.process.stdout.readline().decode()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        if not found or "serving on" not in found[0]:
            self.process.kill()
            self.process.wait(10)
            pytest.fail(f"the server did not start: {found} {self.stderr()}", pytrace=False)
        return found[0]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def post(self, path: str, body: dict, **kwargs) -> httpx.Response:
        return self.client.post(path, json=body, **kwargs)

    def run(self, body: dict, **kwargs) -> dict:
        response = self.post("/run", body, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def stream(self, body: dict, headers: dict | None = None):
        """A streaming run: a context manager whose response's iter_lines() gives events."""
        return self.client.stream("POST", "/runs", json=body, headers=headers)

    def containers(self, sandbox) -> list[dict]:
        return containers_owned_by(sandbox, self.pid)

    def stop(self, timeout: float = 40) -> int:
        """SIGTERM, as systemd or a person's kill would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            pytest.fail(f"the server did not stop within {timeout} s of SIGTERM: {self.stderr()}", pytrace=False)
        self.client.close()
        self.process.stdout.close()
        return status


def events(lines) -> list[dict]:
    return [json.loads(line) for line in lines if line.strip()]


def wait_until(predicate, timeout: float = 15, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def container_gone(sandbox, container_id: str) -> bool:
    """The engine no longer has this container at all (not merely stopped)."""
    from runner.docker.client import NotFound

    try:
        sandbox.backend.api.inspect_container(container_id)
    except NotFound:
        return True
    return False


def assert_nothing_left(sandbox, server: Server) -> None:
    left = wait_until(lambda: not server.containers(sandbox), timeout=20)
    assert left, f"containers outlived server {server.pid}: {server.containers(sandbox)}"


@pytest.fixture
def serve(sandbox, tmp_path):
    """serve(*args) -> a running Server; each is stopped (SIGTERM) and checked at the end.
    `sandbox` makes every such test fail, never skip, without a Docker engine."""
    servers: list[Server] = []

    def start(*args: str, env: dict | None = None, history: Path | None = None) -> Server:
        server = Server(tmp_path / f"server{len(servers)}", *args, env=env, history=history)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        assert_nothing_left(sandbox, server)


@pytest.fixture(scope="module")
def server(sandbox, tmp_path_factory):
    """One server shared by a module's tests that need nothing special of it."""
    one = Server(tmp_path_factory.mktemp("server"), "--max-running", "4", "--per-user", "20")
    yield one
    one.stop()
    assert_nothing_left(sandbox, one)
