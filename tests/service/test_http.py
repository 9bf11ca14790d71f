"""`tui-sandbox serve` as the seeds' users met it: their curl commands, unchanged, give
the answers the seeds promised; the streaming form; reading runs back; languages and
health; and every kind of bad input answered with a clear 4xx JSON error."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from runner.walls import WALL_KINDS
from tui_sandbox.service.models import RunResponse, StreamEvent

from .conftest import container_gone, events, wait_until

RESULT_FIELDS = ("output", "error", "verdict", "exit_code", "signal", "kill_reason", "duration_s",
                 "peak_memory_bytes", "truncated", "language", "runtime", "limits", "id")


def curl(url: str, *args: str, timeout: float = 60) -> str:
    done = subprocess.run(["curl", "-s", *args], capture_output=True, timeout=timeout, text=True,
                          env={"PATH": "/usr/bin:/bin", "URL": url})
    assert done.returncode == 0, done.stderr
    return done.stdout


# The seeds' README, word for word but for the port: (body, what it promises).
SEEDS = {
    "hello": ('{"code": "print(2+2)"}', lambda r: r["output"] == "4\n" and r["error"] == ""),
    "timeout": ('{"code": "while True: pass"}',
                lambda r: r["verdict"] == "timeout" and "10 s" in r["kill_reason"]),
    "memory": ('{"code": "x = \\"a\\" * 10**9"}', lambda r: r["verdict"] == "oom" and "memory" in r["kill_reason"]),
    "dns": ('{"code": "import socket; socket.gethostbyname(\\"google.com\\")"}',
            lambda r: r["verdict"] == "error" and "gaierror" in r["error"]),
    "passwd": ('{"code": "print(open(\\"/etc/passwd\\").read())"}',
               lambda r: r["verdict"] == "ok" and "root:x:0:0" in r["output"]
               and r["output"] != Path("/etc/passwd").read_text() + "\n"),
    "app": ('{"code": "open(\\"/app/x\\", \\"w\\")"}', lambda r: r["verdict"] == "error" and "Error" in r["error"]),
    "root": ('{"code": "open(\\"/x\\", \\"w\\")"}',
             lambda r: r["verdict"] == "error" and "Read-only file system" in r["error"]),
    "tmp": ('{"code": "open(\\"/tmp/x\\",\\"w\\").write(\\"ok\\")"}',
            lambda r: r["verdict"] == "ok" and r["output"] == "" and r["error"] == ""),
    "javascript": ('{"code": "console.log(2+2)", "language": "javascript"}',
                   lambda r: r["output"] == "4\n" and r["language"] == "javascript"),
}


def test_the_seeds_curl_commands_give_what_the_seeds_promised(server):
    def one(name: str) -> tuple[str, dict]:
        body = SEEDS[name][0]
        out = curl(server.url, "-X", "POST", f"{server.url}/run", "-H", "Content-Type: application/json", "-d", body)
        return name, json.loads(out)

    began = time.monotonic()
    with ThreadPoolExecutor(len(SEEDS)) as pool:
        answers = dict(pool.map(one, SEEDS))
    for name, answer in answers.items():
        assert set(RESULT_FIELDS) <= set(answer), (name, answer)
        assert isinstance(answer["output"], str) and isinstance(answer["error"], str)
        assert SEEDS[name][1](answer), (name, answer)
    assert answers["timeout"]["duration_s"] >= 9.5
    # Four at a time (--max-running 4): the loop's 10 s is most of it, nothing waits long.
    assert time.monotonic() - began < 30
    RunResponse.model_validate(answers["hello"])


def test_stdin_and_limits_with_the_clis_names_and_units(server):
    answer = server.run({"code": "import sys; print(sys.stdin.read()[::-1])", "stdin": "olleh", "memory": "64m",
                         "cpus": "0.25", "pids": 16, "timeout": "5s", "read_only": False})
    assert answer["output"] == "hello\n"
    limits = answer["limits"]
    assert (limits["memory_bytes"], limits["cpus"], limits["pids"], limits["timeout_s"], limits["read_only"]) == (
        64 << 20, 0.25, 16, 5, False)
    # No runtime named: the engine's default here (crun), said by the result and its limits.
    assert answer["runtime"] == limits["runtime"] == "crun"
    named = server.run({"code": "print(1)", "memory": 100 << 20, "runtime": "runc"})
    assert named["limits"]["memory_bytes"] == 100 << 20 and named["runtime"] == named["limits"]["runtime"] == "runc"
    network = server.run({"code": "import socket; print(sorted(n for _, n in socket.if_nameindex()))",
                          "network": True})
    assert "eth0" in network["output"]
    c = server.run({"code": "#include <stdio.h>\nint main(void) { puts(\"c\"); return 0; }", "language": "c"})
    assert c["output"] == "c\n" and c["verdict"] == "ok"


def test_the_stream_with_curl_n_comes_as_it_happens(server, sandbox):
    code = "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.4)"
    body = json.dumps({"code": code})
    process = subprocess.Popen(["curl", "-s", "-N", "-X", "POST", f"{server.url}/runs", "-H",
                                "Content-Type: application/json", "-d", body], stdout=subprocess.PIPE, text=True)
    arrivals = []
    for line in process.stdout:
        arrivals.append((time.monotonic(), json.loads(line)))
    assert process.wait(10) == 0
    kinds = [event["event"] for _, event in arrivals]
    # A place was free: it started at once, with no "queued" first (that is for a run that waits).
    assert kinds[0] == "started" and "queued" not in kinds and kinds[-1] == "finished"
    assert set(kinds) <= {"queued", "started", "output", "stats", "finished"}
    assert "".join(e["text"] for _, e in arrivals if e["event"] == "output") == "0\n1\n2\n"
    first_output = next(t for t, e in arrivals if e["event"] == "output" and e["text"].startswith("0"))
    assert arrivals[-1][0] - first_output > 0.6, "the output came all at once, at the end"
    assert len({e["id"] for _, e in arrivals}) == 1
    finished = arrivals[-1][1]
    assert finished["verdict"] == "ok" and finished["output"] == "0\n1\n2\n"
    for _, event in arrivals:        # each line is one of the documented events
        TypeAdapter(StreamEvent).validate_python(event)
    # The run is in the history, under the id its events carried.
    assert server.client.get(f"/runs/{finished['id']}").json()["verdict"] == "ok"
    assert wait_until(lambda: container_gone(sandbox, arrivals[0][1]["container_id"]))


def test_runs_read_back_live_and_from_the_history(server):
    ada = {"X-Sandbox-User": "ada-reads"}
    done = server.run({"code": "print('kept', input())", "stdin": "and its input\n"}, headers=ada)
    with server.stream({"code": "import time; print('so far', flush=True); time.sleep(30)"}, headers=ada) as stream:
        lines = stream.iter_lines()
        first = json.loads(next(lines))
        run_id = first["id"]
        assert stream.headers["location"] == f"/runs/{run_id}"
        for line in lines:
            if json.loads(line)["event"] == "output":
                break
        # Python writes a line's text and its newline apart: the two may come in two events.
        live = wait_until(lambda: (row := server.client.get(f"/runs/{run_id}").json())["output"] == "so far\n"
                          and row)
        assert live and live["state"] == "running" and live["verdict"] is None
        assert live["runtime"] == live["limits"]["runtime"] == "crun"       # as the engine runs it, while it runs
        assert live["user"] == "ada-reads" and "time.sleep(30)" in live["source"]
        listed = server.client.get("/runs", params={"user": "ada-reads"}).json()["runs"]
        assert [r["id"] for r in listed] == [run_id, done["id"]]
        assert [r["state"] for r in listed] == ["running", "finished"]
        cancelled = server.client.delete(f"/runs/{run_id}")
        assert cancelled.status_code == 202
        rest = events(lines)
    assert rest[-1]["event"] == "finished" and rest[-1]["verdict"] == "cancelled"
    row = server.client.get(f"/runs/{done['id']}").json()
    assert row["state"] == "finished" and row["output"] == "kept and its input\n"
    assert row["source"] == "print('kept', input())" and row["stdin"] == "and its input\n"
    assert row["limits"]["memory_bytes"] == 128 << 20 and row["finished_at"] >= row["queued_at"]
    assert server.client.get("/runs", params={"user": "ada-reads", "verdict": "cancelled"}).json()["runs"][0][
        "id"] == run_id
    # A run that has ended cannot be cancelled; one that never was is not found.
    assert server.client.delete(f"/runs/{done['id']}").status_code == 409
    for response in (server.client.get("/runs/nope"), server.client.delete("/runs/nope")):
        assert response.status_code == 404 and response.json()["error"] == "no run 'nope'"


def test_languages_and_health(server):
    languages = {lang["name"]: lang for lang in server.client.get("/languages").json()}
    assert {"python", "javascript", "bash", "c"} <= set(languages)
    assert "py" in languages["python"]["aliases"] and languages["c"]["compiled"]
    health = server.client.get("/health")
    assert health.status_code == 200
    report = health.json()
    assert report["ok"] and report["engine"]["reachable"] and report["engine"]["name"].startswith("Docker")
    assert all(report["images"].values()) and set(report["images"]) >= {"python", "javascript", "bash", "c"}
    assert report["queue"] == {"running": 0, "queued": 0, "cap": 4}
    docs = server.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    paths = server.client.get("/openapi.json").json()["paths"]
    assert {"/run", "/runs", "/runs/{run_id}", "/languages", "/health"} <= set(paths)


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("content, headers, status, says", [
    (b"print(2+2)", JSON, 400, "not valid JSON"),
    (b'{"code": "print(1)"', JSON, 400, "not valid JSON"),
    (b"", JSON, 422, "the body is missing"),
    (b"[1, 2]", JSON, 422, "must be a JSON object"),
    (b'"print(1)"', JSON, 422, "must be a JSON object"),
    (b"{}", JSON, 422, "code is required"),
    (b'{"code": ""}', JSON, 422, "code is empty"),
    (b'{"code": "  \\n "}', JSON, 422, "code is empty"),
    (b'{"code": 42}', JSON, 422, "code: Input should be a valid string"),
    (b'{"code": null}', JSON, 422, "code: Input should be a valid string"),
    (b'{"code": "1", "language": "cobol"}', JSON, 422, "unknown language 'cobol'"),
    (b'{"code": "1", "language": 3}', JSON, 422, "language: Input should be a valid string"),
    (b'{"code": "1", "memory": "lots"}', JSON, 422, "memory: cannot read 'lots' as a size"),
    (b'{"code": "1", "memory": "2x"}', JSON, 422, "unknown size suffix"),
    (b'{"code": "1", "memory": true}', JSON, 422, "memory: Input should be a valid string"),
    (b'{"code": "1", "pids": "many"}', JSON, 422, "pids: Input should be a valid integer"),
    (b'{"code": "1", "pids": 1}', JSON, 422, "pids 1 is too low"),
    (b'{"code": "1", "cpus": 0}', JSON, 422, "cpus 0 must be at least 0.01"),
    (b'{"code": "1", "timeout": -1}', JSON, 422, "timeout -1 s must be more than zero"),
    (b'{"code": "1", "timeout": "soon"}', JSON, 422, "timeout: 'soon' is not a number"),
    (b'{"code": "1", "network": "maybe"}', JSON, 422, "network: Input should be a valid boolean"),
    # Strict where the schema says boolean or integer: no 1, 0.0, "true" or "16" read as one.
    (b'{"code": "1", "network": 1}', JSON, 422, "network: Input should be a valid boolean"),
    (b'{"code": "1", "read_only": 0.0}', JSON, 422, "read_only: Input should be a valid boolean"),
    (b'{"code": "1", "interactive": "true"}', JSON, 422, "interactive: Input should be a valid boolean"),
    (b'{"code": "1", "pids": "16"}', JSON, 422, "pids: Input should be a valid integer"),
    (b'{"code": "1", "runtime": "kata"}', JSON, 422, "unknown runtime 'kata'"),
    (b'{"code": "1", "memroy": "1m"}', JSON, 422, "memroy is not a field of this request"),
    (b'{"code": "\\ud800"}', JSON, 422, "code is not valid text"),
    (b'{"code": "1", "cpus": NaN}', JSON, 422, "cpus"),
    (b'{"code": "print(1)"}', {"Content-Type": "text/plain"}, 415, "Content-Type: application/json"),
    (b'{"code": "print(1)"}', {}, 415, "Content-Type: application/json"),
])
def test_bad_input_is_a_clear_4xx_json_error(server, content, headers, status, says):
    for path in ("/run", "/runs"):
        response = server.client.post(path, content=content, headers=headers)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert set(body) == {"error", "fix"} and says in body["error"], body
        assert "Traceback" not in response.text


def test_unknown_paths_and_methods_are_json_errors_too(server):
    missing = server.client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"] == "no such endpoint: GET /nowhere"
    wrong = server.client.get("/run")
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    assert wrong.json() == {"error": "GET is not allowed on /run",
                            "fix": "see /docs for the methods each endpoint takes"}
    bad_query = server.client.get("/runs", params={"limit": "lots"})
    assert bad_query.status_code == 422 and "query parameter limit" in bad_query.json()["error"]
    assert server.client.get("/runs", params={"limit": 0}).status_code == 422


def test_the_body_cap_is_413_whether_announced_or_not(server):
    big = json.dumps({"code": "#" + "x" * (1 << 20)}).encode()
    announced = server.client.post("/run", content=big, headers=JSON)
    assert announced.status_code == 413
    assert announced.json()["error"] == "the body is over this server's cap of 1 MiB"

    def chunks():
        for start in range(0, len(big), 64 * 1024):
            yield big[start:start + 64 * 1024]

    chunked = server.client.post("/run", content=chunks(), headers=JSON)
    assert chunked.status_code == 413 and "cap" in chunked.json()["error"]
    # Just under the cap is a program like any other.
    assert server.run({"code": "#" + "x" * 1_000_000 + "\nprint('fits')"})["output"] == "fits\n"


def test_a_loopback_server_answers_only_to_loopback_names(server):
    port = server.url.rsplit(":", 1)[1]
    assert server.client.get("/health", headers={"Host": f"localhost:{port}"}).status_code == 200
    rebound = server.client.post("/run", json={"code": "print(1)"}, headers={"Host": "evil.example"})
    assert rebound.status_code == 400 and "answers only to" in rebound.json()["error"]


def test_cors_is_closed_by_default(server):
    preflight = server.client.options("/run", headers={"Origin": "https://elsewhere.example",
                                                       "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    simple = server.client.get("/languages", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_many_at_once_all_answered_none_lost(server):
    """A small flood: every request gets its own right answer, the server stays up."""
    def one(i: int) -> tuple[int, dict]:
        response = server.client.post("/run", json={"code": f"print({i} * 2)"}, headers={"X-Sandbox-User": f"u{i}"})
        return response.status_code, response.json()

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(16)))
    assert [status for status, _ in answers] == [200] * 16
    assert [body["output"] for _, body in answers] == [f"{i * 2}\n" for i in range(16)]
    assert wait_until(lambda: server.client.get("/health").json()["queue"]["running"] == 0)


def test_the_docs_page_needs_nothing_from_outside(server):
    # Offline classrooms: FastAPI's default /docs loads Swagger UI from a CDN and is blank.
    page = server.client.get("/docs")
    assert page.status_code == 200 and "cdn" not in page.text.lower()
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert asset in page.text
        answer = server.client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 10_000
    assert server.client.get("/openapi.json").json()["openapi"].startswith("3.1")


def test_a_wall_streams_as_it_happens_and_stays_with_the_run(server):
    """POST /runs says `blocked` when the program hits the PID limit, before the output it
    writes after; POST /run, GET /runs/{id} (from the history) carry the same walls."""
    from ..engine.test_walls import FORKS

    code = FORKS.replace('print("refused"', 'time.sleep(0.6)\nprint("refused"')
    with server.stream({"code": code, "pids": 16}) as stream:
        lines = events(stream.iter_lines())
    kinds = [line["event"] for line in lines]
    wall_at = kinds.index("blocked")
    said_at = next(i for i, line in enumerate(lines) if line["event"] == "output" and "refused" in line["text"])
    assert wall_at < said_at
    wall = lines[wall_at]
    assert (wall["kind"], wall["call"], wall["errno"], wall["exact"]) == ("process", "fork", "EAGAIN", True)
    finished = lines[-1]
    refused = int(finished["output"].split()[1])
    assert [w["count"] for w in finished["blocked"]] == [refused]
    assert finished["walls_watched"] == sorted(WALL_KINDS)
    kept = server.client.get(f"/runs/{finished['id']}").json()
    assert kept["blocked"] == finished["blocked"] and kept["walls_watched"] == sorted(WALL_KINDS)
    answer = server.run({"code": "print(1)"})
    assert answer["blocked"] == [] and answer["walls_watched"] == sorted(WALL_KINDS)


def test_every_kind_of_wall_streams_before_what_follows_it(server):
    from ..engine.test_walls import EVERY_KIND, EVERY_KIND_WALLS

    with server.stream({"code": EVERY_KIND, "pids": 16}) as stream:
        lines = events(stream.iter_lines())
    walls = {(line["kind"], line["call"], line["target"]) for line in lines if line["event"] == "blocked"}
    assert walls == EVERY_KIND_WALLS
    dns_at = next(i for i, line in enumerate(lines) if line["event"] == "blocked" and line["call"] == "dns")
    done_at = next(i for i, line in enumerate(lines) if line["event"] == "output" and "done" in line["text"])
    assert dns_at < done_at
    kept = server.client.get(f"/runs/{lines[-1]['id']}").json()
    assert {(w["kind"], w["call"], w["target"]) for w in kept["blocked"]} == EVERY_KIND_WALLS
