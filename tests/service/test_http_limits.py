"""What keeps one host's server fair and safe, over real HTTP: the cap and the fair queue
with each run's place in line, ceilings, rate limits, a full queue, tokens, and the
refusal to listen beyond loopback without them."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import httpx

from .conftest import ROOT, events, wait_until

SLEEP = "import time; time.sleep({})"


class Follower(threading.Thread):
    """Reads one streaming run in the background, keeping every event."""

    def __init__(self, server, body: dict, user: str) -> None:
        super().__init__(daemon=True)
        self.server, self.body, self.user = server, body, user
        self.events: list[dict] = []
        self.status: int | None = None
        self.first = threading.Event()

    def run(self) -> None:
        with self.server.stream(self.body, headers={"X-Sandbox-User": self.user}) as response:
            self.status = response.status_code
            for line in response.iter_lines():
                if line.strip():
                    self.events.append(json.loads(line))
                    self.first.set()
        self.first.set()

    def started(self) -> bool:
        return any(e["event"] == "started" for e in self.events)


def test_the_cap_holds_and_each_waiting_run_hears_its_place(serve):
    server = serve("--max-running", "1")
    first = Follower(server, {"code": SLEEP.format(1.5)}, "ada")
    first.start()
    assert wait_until(first.started)
    second = Follower(server, {"code": "print('bob')"}, "bob")
    second.start()
    assert second.first.wait(10)
    third = Follower(server, {"code": "print('cy')"}, "cy")
    third.start()
    for follower in (first, second, third):
        follower.join(30)
    assert [f.events[-1]["verdict"] for f in (first, second, third)] == ["ok"] * 3
    places = [[e["position"] for e in f.events if e["event"] == "queued"] for f in (second, third)]
    assert places == [[1], [2, 1]]
    queued = next(e for e in third.events if e["event"] == "queued")
    assert queued["message"] == "queued: 2nd in line, 1/1 running" and (queued["running"], queued["cap"]) == (1, 1)
    for follower in (second, third):     # every place in line comes before the start
        kinds = [e["event"] for e in follower.events]
        assert kinds.index("started") > max(i for i, kind in enumerate(kinds) if kind == "queued")
    # Never two at once: each run started after the one before it ended.
    rows = [server.client.get(f"/runs/{f.events[0]['id']}").json() for f in (first, second, third)]
    assert all(b["started_at"] >= a["finished_at"] - 0.05 for a, b in zip(rows, rows[1:], strict=False))


def test_ceilings_refuse_and_name_the_ceiling(serve):
    server = serve("--max-memory", "256m", "--max-cpus", "0.5", "--max-pids", "32", "--max-timeout", "5",
                   "--no-network-allowed", "--max-output-cap", "2m", "--max-file-size", "32m",
                   "--max-tmp-size", "64m", "--max-open-files", "512")
    cases = {
        "output_cap": ({"output_cap": "4m"}, "output_cap 4 MiB is over this server's ceiling of 2 MiB"),
        "file_size": ({"file_size": "1g"}, "file_size 1 GiB is over this server's ceiling of 32 MiB"),
        "tmp_size": ({"tmp_size": "128m"}, "tmp_size 128 MiB is over this server's ceiling of 64 MiB"),
        "open_files": ({"open_files": 1024}, "open_files 1024 is over this server's ceiling of 512"),
        "memory": ({"memory": "1g"}, "memory 1 GiB is over this server's ceiling of 256 MiB"),
        "cpus": ({"cpus": 1}, "cpus 1 is over this server's ceiling of 0.5"),
        "pids": ({"pids": 64}, "pids 64 is over this server's ceiling of 32"),
        "timeout": ({"timeout": 30}, "timeout 30 s is over this server's ceiling of 5 s"),
        "network": ({"network": True}, "the network is not allowed on this server"),
    }
    for name, (limits, says) in cases.items():
        response = server.post("/run", {"code": "print(1)", **limits})
        assert response.status_code == 422, name
        assert says in response.json()["error"] and "ceiling" in response.json()["fix"], response.json()
    both = server.post("/runs", {"code": "print(1)", "memory": "512m", "timeout": 10}).json()["error"]
    assert "memory" in both and "timeout" in both
    # What a request does not name is the default, lowered to the ceiling: pids 64 > 32 here.
    assert server.run({"code": "print(1)"})["limits"]["pids"] == 32
    ok = server.run({"code": "print(1)", "memory": "256m", "cpus": 0.5, "pids": 32, "timeout": 5})
    assert ok["verdict"] == "ok"
    assert server.client.get("/health").json()["ceilings"] == {
        "memory_bytes": 256 << 20, "cpus": 0.5, "pids": 32, "timeout_s": 5, "network": False,
        "tmp_bytes": 64 << 20, "output_bytes": 2 << 20, "file_size_bytes": 32 << 20, "open_files": 512}
    # Within them, each is the run's own.
    asked = server.run({"code": "print(1)", "output_cap": "2m", "file_size": "1m", "tmp_size": "8m",
                        "open_files": 64})["limits"]
    assert (asked["output_bytes"], asked["file_size_bytes"], asked["tmp_bytes"], asked["open_files"]) == (
        2 << 20, 1 << 20, 8 << 20, 64)


def test_over_the_rate_is_429_with_retry_after(serve):
    server = serve("--rate", "3/minute")
    for _ in range(3):
        server.run({"code": "print(1)"}, headers={"X-Sandbox-User": "eager"})
    refused = server.post("/run", {"code": "print(1)"}, headers={"X-Sandbox-User": "eager"})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "eager has asked for more than 3 per 1 minute" in refused.json()["error"]
    streamed = server.post("/runs", {"code": "print(1)"}, headers={"X-Sandbox-User": "eager"})
    assert streamed.status_code == 429 and "retry-after" in streamed.headers
    # Each user has a rate of their own.
    assert server.run({"code": "print(2)"}, headers={"X-Sandbox-User": "calm"})["output"] == "2\n"


def test_a_full_queue_is_503_with_retry_after_and_a_user_waits_at_most_per_user(serve, sandbox):
    server = serve("--max-running", "1", "--per-user", "1", "--max-waiting", "2")
    running = Follower(server, {"code": SLEEP.format(30), "timeout": 40}, "ada")
    running.start()
    assert wait_until(running.started)
    waiting = [Follower(server, {"code": "print(1)"}, user) for user in ("bob", "cy")]
    for follower in waiting:
        follower.start()
        assert follower.first.wait(10)
    own = server.post("/run", {"code": "print(1)"}, headers={"X-Sandbox-User": "bob"})
    assert own.status_code == 503 and "bob already has 1 runs waiting (the most is 1)" in own.json()["error"]
    assert int(own.headers["retry-after"]) >= 1
    full = server.post("/runs", {"code": "print(1)"}, headers={"X-Sandbox-User": "dee"})
    assert full.status_code == 503 and "the queue is full" in full.json()["error"]
    assert int(full.headers["retry-after"]) >= 1
    assert server.client.get("/health").json()["queue"] == {"running": 1, "queued": 2, "cap": 1}
    # Cancelling the long run lets the queue drain; all end, and nothing is left.
    assert server.client.delete(f"/runs/{running.events[0]['id']}").status_code == 202
    for follower in (running, *waiting):
        follower.join(30)
    assert [f.events[-1]["verdict"] for f in (running, *waiting)] == ["cancelled", "ok", "ok"]


def test_tokens_401_without_one_and_each_user_sees_their_own(serve):
    server = serve("--token", "ada=ada-secret-1", "--token", "bob=bob-secret-2")
    assert "2 token(s): ada, bob" in server.line
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "ada-secret-1"},
                    {"X-Sandbox-User": "ada"}):
        refused = server.post("/run", {"code": "print(1)"}, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json()["error"] == "a valid bearer token is required"
        assert refused.headers["www-authenticate"] == "Bearer"
    assert server.client.get("/runs").status_code == 401
    assert server.client.get("/languages").status_code == 401
    ada = {"Authorization": "Bearer ada-secret-1"}
    bob = {"Authorization": "Bearer bob-secret-2"}
    answer = server.run({"code": "print(2+2)"}, headers={**ada, "X-Sandbox-User": "mallory"})
    assert answer["output"] == "4\n"
    mine = server.client.get(f"/runs/{answer['id']}", headers=ada).json()
    assert mine["user"] == "ada"          # the token's name, whatever the header says
    assert server.client.get(f"/runs/{answer['id']}", headers=bob).status_code == 404
    assert server.client.get("/runs", headers=bob).json()["runs"] == []
    assert [r["id"] for r in server.client.get("/runs", params={"user": "bob"}, headers=ada).json()["runs"]] == [
        answer["id"]]
    with server.stream({"code": SLEEP.format(30)}, headers=ada) as stream:
        lines = stream.iter_lines()
        run_id = json.loads(next(lines))["id"]
        assert server.client.delete(f"/runs/{run_id}", headers=bob).status_code == 404
        assert server.client.delete(f"/runs/{run_id}", headers=ada).status_code == 202
        assert events(lines)[-1]["verdict"] == "cancelled"
    # With tokens, other Host names are fine (the token is the guard), and health is open.
    assert server.client.get("/health", headers={"Host": "sandbox.example"}).status_code == 200


def test_a_non_loopback_bind_needs_a_token(serve, tmp_path):
    refused = subprocess.run([sys.executable, "-m", "tui_sandbox", "serve", "--host", "0.0.0.0", "--port", "0"],
                             capture_output=True, text=True, cwd=ROOT, timeout=30,
                             env={"XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert refused.returncode == 2
    assert "refusing to serve on 0.0.0.0 without a token" in refused.stderr and "--token" in refused.stderr
    assert refused.stdout == ""
    # With one it serves, on every address; without the token, 401.
    token_file = tmp_path / "tokens"
    token_file.write_text("# the class\nteacher=t-0123456789\n\n")
    server = serve("--host", "0.0.0.0", "--token-file", str(token_file))
    assert "serving on http://0.0.0.0:" in server.line
    port = server.line.split("http://0.0.0.0:")[1].split()[0]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        assert client.post("/run", json={"code": "print(1)"}).status_code == 401
        answer = client.post("/run", json={"code": "print(1)"}, headers={"Authorization": "Bearer t-0123456789"})
        assert answer.status_code == 200 and answer.json()["output"] == "1\n"


def test_bad_serve_options_exit_2_with_the_reason(tmp_path):
    for args, says in ((["--rate", "often"], "--rate 'often'"), (["--max-memory", "huge"], "--max-memory"),
                       (["--max-timeout", "0"], "--max-timeout must be more than zero"),
                       (["--per-user", "0"], "--per-user must be at least 1"),
                       (["--token", "two words"], "one word"),
                       (["--token-file", str(tmp_path / "none")], "cannot read the token file")):
        began = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "tui_sandbox", "serve", *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=30, env={"XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert done.returncode == 2 and says in done.stderr, (args, done.stderr)
        assert time.monotonic() - began < 10
