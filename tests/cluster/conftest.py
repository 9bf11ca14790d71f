"""The cluster's parts, real and on loopback: a redis-server and a PostgreSQL (initdb
into a temporary directory owned by `postgres`, run with runuser, since CI runs as
root), and fronts and workers as `python -m tui_sandbox serve/worker` processes. Every
fixture stops what it started, even when the test fails."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


class RedisServer:
    def __init__(self, tmp: Path, password: str | None = None) -> None:
        self.port, self.dir, self.password = free_port(), tmp, password
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", str(self.dir)]
        if self.password:
            command += ["--requirepass", self.password]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _answers(self.port), 10, "redis-server did not answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        """Gone at once, as a crash or an out-of-memory kill leaves it (its data with it)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Postgres:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tui-sandbox-pg-"))
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self._made = 0
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(self.data), "-A",
                        "trust", "-U", "postgres"], check=True, capture_output=True)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-k", str(self.dir), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._ready(), 20, "PostgreSQL did not answer")

    def _ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url("postgres"), connect_timeout=1).close()
            return True
        except psycopg.OperationalError:
            return False

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        self._made += 1
        name = f"history{self._made}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # pg_ctl's fast shutdown: runuser would not pass a signal on to postgres.
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.data), "stop",
                            "-m", "fast", "-w"], capture_output=True, timeout=30)
            self.proc.wait(20)
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    server = Postgres()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class Process:
    """A front or a worker, its output in a file."""

    def __init__(self, args: list[str], log: Path, env: dict) -> None:
        self.args, self.log = args, log
        self.proc = subprocess.Popen([sys.executable, "-m", "tui_sandbox", *args], cwd=ROOT, env=env,
                                     stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def output(self) -> str:
        return self.log.read_text()

    def wait_ready(self, word: str, timeout: float = 30) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.args[0]} exited {self.proc.returncode}: {self.output()}")
            return word in self.output()
        wait_for(ready, timeout, f"{self.args[0]} did not start: {self.output()}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 40) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


class Cluster:
    def __init__(self, redis: RedisServer, tmp: Path) -> None:
        self.redis, self.tmp = redis, tmp
        self.env = {**os.environ, "XDG_DATA_HOME": str(tmp / "data"), "PYTHONUNBUFFERED": "1"}
        self.processes: list[Process] = []

    def worker(self, name: str, cap: int = 2, *extra: str) -> Process:
        process = Process(["worker", "--broker", self.redis.url, "--name", name, "--max-running", str(cap), *extra],
                          self.tmp / f"worker-{name}-{len(self.processes)}.log", self.env)
        self.processes.append(process)
        process.wait_ready(f"worker {name}:")
        return process

    def front(self, history: str | None = None, *extra: str) -> tuple[Process, httpx.Client]:
        port = free_port()
        process = Process(["serve", "--broker", self.redis.url, "--port", str(port),
                           "--history", history or str(self.tmp / "history.sqlite3"), *extra],
                          self.tmp / f"front-{port}.log", self.env)
        self.processes.append(process)
        process.wait_ready("serving on")
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        return process, client

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop(signal.SIGTERM)


@pytest.fixture
def cluster(redis_server, tmp_path):
    parts = Cluster(redis_server, tmp_path)
    yield parts
    parts.close()


def run(client: httpx.Client, code: str, user: str = "ada", **fields) -> httpx.Response:
    return client.post("/run", json={"code": code, "language": "python", **fields},
                       headers={"X-Sandbox-User": user})
