"""Piston v2 compatibility, tested as Piston's clients use it: the real server
(`tui-sandbox serve` on 127.0.0.1, a free port, a history of its own), real containers,
and two real Piston client libraries, unmodified: `ultra-piston` from PyPI and
`piston-client` from npm (installed into a temporary directory, with npm's `semver`,
against which our range matcher is checked). Without Docker, the images, node or npm
these tests fail; they never skip."""

from __future__ import annotations

import ctypes
import json
import os
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from ultra_piston import File, PistonClient
from ultra_piston.errors import BadRequestError

from tests.conftest import containers_owned_by
from tui_sandbox.service.piston import satisfies

HERE = Path(__file__).parent
NODE_HELPER = HERE / "piston_client.mjs"
TUI_SANDBOX = Path(sys.executable).with_name("tui-sandbox")
MiB = 1024 * 1024

PROGRAMS = {
    "python": "import sys\nname = input()\nprint(f'hello {name}')\nprint('to stderr', file=sys.stderr)\n",
    "javascript": "const name = require('fs').readFileSync(0, 'utf8').trim();\n"
                  "console.log('hello ' + name);\nconsole.error('to stderr');\n",
    "bash": 'read name\necho "hello $name"\necho "to stderr" >&2\n',
    "c": '#include <stdio.h>\nint main(void) {\n    char name[64];\n    if (scanf("%63s", name) != 1) return 1;\n'
         '    printf("hello %s\\n", name);\n    fprintf(stderr, "to stderr\\n");\n    return 0;\n}\n',
}
VERSIONS = {"python": r"3\.11\.\d+", "javascript": r"18\.\d+\.\d+", "bash": r"5\.2\.\d+", "c": r"12\.\d+\.\d+"}


# --- the server and the clients ------------------------------------------------------------

@dataclass
class Server:
    url: str
    process: subprocess.Popen
    history: Path
    log: Path

    def rows(self, **where) -> list[dict]:
        """The history's rows, newest first."""
        db = sqlite3.connect(self.history)
        db.row_factory = sqlite3.Row
        try:
            clause = " AND ".join(f"{key} = ?" for key in where)
            sql = "SELECT * FROM runs" + (f" WHERE {clause}" if clause else "") + " ORDER BY finished_at DESC"
            return [dict(row) for row in db.execute(sql, tuple(where.values()))]
        finally:
            db.close()


_LIBC = ctypes.CDLL(None)    # loaded before any fork: the child only makes one call


def _die_with_parent() -> None:
    _LIBC.prctl(1, signal.SIGTERM)     # PR_SET_PDEATHSIG


def start_server(tmp: Path, *extra: str) -> Server:
    """`tui-sandbox serve` on a free loopback port, its data and config in tmp. It is
    sent SIGTERM when the test process dies, so it never outlives the tests."""
    tmp.mkdir(parents=True, exist_ok=True)
    history, log = tmp / "history.sqlite3", tmp / "server.log"
    env = dict(os.environ, XDG_DATA_HOME=str(tmp / "data"), XDG_CONFIG_HOME=str(tmp / "config"))
    process = subprocess.Popen(
        [str(TUI_SANDBOX), "serve", "--host", "127.0.0.1", "--port", "0", "--history", str(history), *extra],
        stdout=subprocess.PIPE, stderr=log.open("wb"), stdin=subprocess.DEVNULL, env=env,
        preexec_fn=_die_with_parent)
    deadline, said = time.monotonic() + 60, b""
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            said += os.read(process.stdout.fileno(), 4096)
            found = re.search(rb"serving on (http://127\.0\.0\.1:\d+)", said)
            if found:
                return Server(found[1].decode(), process, history, log)
    process.kill()
    process.wait(10)
    pytest.fail(f"`tui-sandbox serve` did not start: {said.decode(errors='replace')}\n{log.read_text()}",
                pytrace=False)


def stop_server(server: Server, sandbox) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)
        pytest.fail(f"the server did not stop within 30 s of SIGTERM\n{server.log.read_text()}")
    # uvicorn re-raises the SIGTERM it handled once it has shut down gracefully.
    assert code in (0, -signal.SIGTERM), server.log.read_text()
    assert containers_owned_by(sandbox, server.process.pid) == [], "the server left containers behind"
    assert "Traceback" not in server.log.read_text(), server.log.read_text()


@pytest.fixture(scope="module")
def server(sandbox, tmp_path_factory):
    """The conftest's sandbox fails the tests when Docker or an image is missing."""
    running = start_server(tmp_path_factory.mktemp("piston-server"))
    yield running
    stop_server(running, sandbox)


@pytest.fixture(scope="session")
def node_modules(tmp_path_factory) -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are required for the npm piston-client tests: apt-get install nodejs npm",
                    pytrace=False)
    prefix = tmp_path_factory.mktemp("npm")
    done = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
                           "piston-client@1.0.2", "semver@7"], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"npm install piston-client semver failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
    return prefix / "node_modules"


def npm_client(node_modules: Path, server: Server | None = None, calls=(), semver=()) -> dict:
    """What npm piston-client returned for each call, and npm semver's answers."""
    job = {"server": server.url if server else None, "calls": list(calls), "semver": [list(p) for p in semver]}
    done = subprocess.run(["node", str(NODE_HELPER), str(node_modules)], input=json.dumps(job),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def npm_execute(node_modules: Path, server: Server, language: str, code: str, config: dict | None = None) -> dict:
    call = {"op": "execute", "language": language, "code": code}
    if config is not None:
        call["config"] = config
    return npm_client(node_modules, server, [call])["calls"][0]


def ultra(server: Server, **options) -> PistonClient:
    return PistonClient(base_url=f"{server.url}/api/v2/", rate_limit=0, **options)


def post(server: Server, body, path: str = "/api/v2/execute", **options) -> httpx.Response:
    """A raw request: bytes or text go as they are, with no content type unless given."""
    if isinstance(body, (dict, list)):
        return httpx.post(server.url + path, json=body, timeout=60, **options)
    return httpx.post(server.url + path, content=body, timeout=60, **options)


def lines(text: str) -> list[str]:
    return sorted(text.splitlines())


# --- the runtimes ----------------------------------------------------------------------------

def test_runtimes_are_the_images_own_versions_with_pistons_aliases(server):
    runtimes = {rt.language: rt for rt in ultra(server).get_runtimes()}
    assert sorted(runtimes) == ["bash", "c", "javascript", "python"]
    for name, pattern in VERSIONS.items():
        assert re.fullmatch(pattern, runtimes[name].version), runtimes[name]
    assert {"py", "py3", "python3"} <= set(runtimes["python"].aliases)
    assert {"js", "node", "node-js"} <= set(runtimes["javascript"].aliases)
    assert "sh" in runtimes["bash"].aliases and "gcc" in runtimes["c"].aliases
    raw = httpx.get(f"{server.url}/api/v2/runtimes", timeout=30).json()
    assert all(set(entry) == {"language", "version", "aliases"} for entry in raw)


def test_runtimes_and_execute_answer_on_both_prefixes_with_and_without_a_slash(server):
    for prefix in ("/api/v2", "/api/v2/piston"):
        for slash in ("", "/"):
            listed = httpx.get(f"{server.url}{prefix}/runtimes{slash}", timeout=30)
            assert listed.status_code == 200 and {r["language"] for r in listed.json()} >= {"python", "c"}
            ran = post(server, {"language": "sh", "version": "5", "files": [{"content": f"echo '{prefix}{slash}'"}]},
                       path=f"{prefix}/execute{slash}")
            assert ran.status_code == 200, ran.text
            assert ran.json()["run"]["stdout"] == f"{prefix}{slash}\n"


def test_openapi_documents_the_canonical_paths_only(server):
    paths = httpx.get(f"{server.url}/openapi.json", timeout=30).json()["paths"]
    assert "post" in paths["/api/v2/execute"] and "get" in paths["/api/v2/runtimes"]
    assert not [p for p in paths if p.startswith("/api/v2/piston") or p.startswith("/api/v2/execute/")]


# --- each language, through each client ------------------------------------------------------

@pytest.mark.parametrize("language", list(PROGRAMS))
def test_ultra_piston_runs_each_language(server, language):
    result = ultra(server).post_execute(language, "*", File(content=PROGRAMS[language]), stdin="ada")
    assert result.language == language and re.fullmatch(VERSIONS[language], result.version)
    assert result.run.stdout == "hello ada\n" and result.run.stderr == "to stderr\n"
    assert lines(result.run.output) == ["hello ada", "to stderr"]
    assert result.run.code == 0 and result.run.signal is None
    if language == "c":
        assert result.compile is not None and result.compile.code == 0 and result.compile.stderr == ""
    else:
        assert result.compile is None


def test_npm_piston_client_runs_each_language(server, node_modules):
    # The client sends no content type, args ["1", "2", "3"], timeouts 10000 and 3000 and
    # memory limits of -1, and picks the version from /runtimes by the exact language name.
    calls = [{"op": "execute", "language": name, "code": code, "config": {"stdin": "ada"}}
             for name, code in PROGRAMS.items()]
    calls.append({"op": "execute", "language": "py", "code": "print(6 * 7)"})   # an alias: no version sent
    answers = npm_client(node_modules, server, calls)["calls"]
    for name, answer in zip(PROGRAMS, answers, strict=False):
        assert answer["language"] == name and re.fullmatch(VERSIONS[name], answer["version"]), answer
        run = answer["run"]
        assert (run["stdout"], run["stderr"], run["code"], run["signal"], run["status"], run["message"]) == \
            ("hello ada\n", "to stderr\n", 0, None, None, None), answer
        assert lines(run["output"]) == ["hello ada", "to stderr"]
        assert run["wall_time"] >= 0 and run["memory"] > 0 and run["cpu_time"] >= 0
        assert ("compile" in answer) == (name == "c")
    assert answers[-1]["language"] == "python" and answers[-1]["run"]["stdout"] == "42\n"
    c_compile = answers[3]["compile"]
    assert c_compile["code"] == 0 and c_compile["status"] is None and c_compile["wall_time"] > 0


# --- how runs end --------------------------------------------------------------------------------

def test_a_timeout_is_TO_killed(server, node_modules):
    code = "print('started', flush=True)\nwhile True:\n    pass\n"
    run = npm_execute(node_modules, server, "python", code, {"runTimeout": 1000})["run"]
    assert (run["status"], run["signal"], run["code"]) == ("TO", "SIGKILL", None), run
    assert run["stdout"] == "started\n" and "Timed out after 1 s" in run["message"]
    assert 900 <= run["wall_time"] < 5000
    through_ultra = ultra(server).post_execute("python", "3", File(content=code), run_timeout=1000)
    assert through_ultra.run.signal == "SIGKILL" and through_ultra.run.stdout == "started\n"


def test_an_oom_kill_is_SG_and_the_message_says_so(server, node_modules):
    code = "x = bytearray(512 * 1024 * 1024)\n"
    run = npm_execute(node_modules, server, "python", code, {"runMemoryLimit": 64 * MiB})["run"]
    assert (run["status"], run["signal"]) == ("SG", "SIGKILL"), run
    assert run["message"] == "Out of memory: killed at the 64 MiB limit"
    assert run["memory"] >= 60 * MiB
    default = post(server, {"language": "python", "version": "3.11", "files": [{"content": code}],
                            "run_memory_limit": 0}).json()["run"]
    assert default["status"] == "SG" and default["message"] == "Out of memory: killed at the 128 MiB limit"


def test_an_error_exit_is_RE_and_a_crash_is_SG(server, node_modules):
    exited = npm_execute(node_modules, server, "python",
                         "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)\n")["run"]
    assert (exited["status"], exited["code"], exited["signal"]) == ("RE", 3, None), exited
    assert exited["message"] == "Exited with status 3" and lines(exited["output"]) == ["err", "out"]
    crashed = npm_execute(node_modules, server, "c",
                          '#include <stdio.h>\nint main(void) { int *p = 0; puts("before"); fflush(stdout);'
                          ' return *p; }\n')
    assert crashed["compile"]["code"] == 0
    run = crashed["run"]
    assert (run["status"], run["signal"], run["code"], run["stdout"]) == ("SG", "SIGSEGV", None, "before\n"), run


def test_a_compile_error_is_the_compile_stage_and_the_run_is_skipped(server, node_modules):
    code = "int main(void) {\n    return undefined_name;\n}\n"
    answer = npm_execute(node_modules, server, "c", code)
    stage = answer["compile"]
    assert (stage["status"], stage["code"], stage["stdout"]) == ("RE", 1, ""), stage
    assert "undefined_name" in stage["stderr"] and stage["output"] == stage["stderr"]
    assert stage["message"].startswith("Compilation failed")
    assert answer["run"] == stage           # as Piston answers its older clients
    parsed = ultra(server).post_execute("gcc", "12.x", File(content=code))
    assert parsed.compile.code == 1 and "undefined_name" in parsed.compile.stderr


def test_a_flood_is_OL_on_stdout_and_EL_on_stderr(server, node_modules):
    run = npm_execute(node_modules, server, "python", "while True:\n    print('y' * 99)\n")["run"]
    assert (run["status"], run["signal"]) == ("OL", "SIGKILL"), {k: v for k, v in run.items() if k[-3:] != "out"}
    assert len(run["stdout"]) == 1 * MiB and run["output"] == run["stdout"] and run["stderr"] == ""
    assert "Output passed 1 MiB" in run["message"]
    run = post(server, {"language": "bash", "version": "*", "files": [{"content": "yes err >&2"}]}).json()["run"]
    assert (run["status"], run["signal"], len(run["stderr"]), run["stdout"]) == ("EL", "SIGKILL", 1 * MiB, "")


# --- leniency --------------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [None, "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                                          "application/json; charset=utf-8"])
def test_a_json_body_is_read_whatever_its_content_type(server, content_type):
    body = json.dumps({"language": "bash", "version": "*", "files": [{"content": "echo ok"}],
                       "an_unknown_field": {"is": "ignored"}})
    headers = {"Content-Type": content_type} if content_type else {}
    response = post(server, body.encode(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["run"]["stdout"] == "ok\n"


def test_version_ranges_match_as_npm_semver_does(server):
    for version in ("3.x", ">=3.10 <4"):
        answer = post(server, {"language": "Python3", "version": version, "files": [{"content": "print(1)"}]})
        assert answer.status_code == 200 and re.fullmatch(VERSIONS["python"], answer.json()["version"])
    refused = post(server, {"language": "python", "version": "3.10.0", "files": [{"content": "print(1)"}]})
    assert refused.status_code == 400
    assert re.fullmatch(r"python-3\.10\.0 runtime is unknown \(python here is 3\.11\.\d+\)", refused.json()["message"])


def test_stdin_gets_pistons_newline_and_args_are_accepted_and_said_to_be_ignored(server):
    code = "import sys\nprint(repr(sys.stdin.read()))\nprint(sys.argv[1:])\n"
    response = post(server, {"language": "python", "version": "*", "files": [{"name": "x.py", "content": code}],
                             "stdin": "abc", "args": ["1", "2"], "compile_timeout": 10000})
    assert response.status_code == 200, response.text
    assert response.json()["run"]["stdout"] == "'abc\\n'\n[]\n"
    assert response.headers["X-Sandbox-Ignored"] == "args"      # Python has no compile step to time
    c_program = {"content": "int main(void) { return 0; }"}
    response = post(server, {"language": "c", "version": "*", "files": [c_program, {"content": "x"}],
                             "compile_timeout": 10000, "run_cpu_time": 3000})
    assert response.status_code == 200 and response.json()["run"]["status"] is None, response.text
    assert set(response.headers["X-Sandbox-Ignored"].split(", ")) == {"files after the first", "compile_timeout",
                                                                      "run_cpu_time"}
    plain = post(server, {"language": "bash", "version": "*", "files": [{"content": "true"}], "args": []})
    assert "X-Sandbox-Ignored" not in plain.headers


def test_piston_runs_go_through_the_service_into_the_history(server):
    post(server, {"language": "bash", "version": "*", "files": [{"content": "echo kept"}]}).raise_for_status()
    kept = [row for row in server.rows(origin="piston") if row["output"] == "kept\n"]
    assert kept and kept[0]["verdict"] == "ok" and kept[0]["user"] == "127.0.0.1"


def test_a_client_that_hangs_up_has_its_run_cancelled(server):
    marker = f"hang-up-{time.time_ns()}"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server.url}/api/v2/execute", timeout=2, json={
            "language": "python", "version": "*", "run_timeout": 30000,
            "files": [{"content": f"# {marker}\nwhile True:\n    pass\n"}]})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        rows = [row for row in server.rows(origin="piston") if marker in row["source"]]
        if rows:
            assert rows[0]["verdict"] == "cancelled" and rows[0]["duration_s"] < 10, rows[0]
            return
        time.sleep(0.3)
    pytest.fail("the run of a client that hung up was not stopped within 15 s")


# --- bad requests: a clear 4xx in Piston's shape, never a 500 --------------------------------------

PY = [{"content": "print(1)"}]
BAD = [
    ({"language": "cobol", "version": "*", "files": PY}, 400,
     r"cobol-\* runtime is unknown \(this server has .*python"),
    ({"language": "python", "version": "2.7", "files": PY}, 400, r"python-2\.7 runtime is unknown"),
    ({"language": "python", "version": "banana", "files": PY}, 400, r"python-banana runtime is unknown"),
    ({"language": "python", "version": 3, "files": PY}, 400, r"version must be a string"),
    ({"version": "*", "files": PY}, 400, r"language is required as a string"),
    ({"language": ["python"], "version": "*", "files": PY}, 400, r"language is required as a string"),
    ({"language": "python", "version": "*"}, 400, r"files is required as an array"),
    ({"language": "python", "version": "*", "files": "print(1)"}, 400, r"files is required as an array"),
    ({"language": "python", "version": "*", "files": []}, 400, r"at least one utf8 encoded file"),
    ({"language": "python", "version": "*", "files": [{"content": ""}]}, 400, r"files\[0\]\.content is empty"),
    ({"language": "python", "version": "*", "files": [{"name": "a.py"}]}, 400, r"files\[0\]\.content is required"),
    ({"language": "python", "version": "*", "files": [{"content": 5}]}, 400, r"files\[0\]\.content is required"),
    ({"language": "python", "version": "*", "files": ["print(1)"]}, 400, r"files\[0\] must be an object"),
    ({"language": "python", "version": "*", "files": [{"content": "cHJpbnQoMSk=", "encoding": "base64"}]}, 400,
     r"at least one utf8 encoded file"),
    ({"language": "python", "version": "*", "files": [{"content": "!!", "encoding": "base64"}, *PY]}, 400,
     r"files\[0\]\.content is not valid base64"),
    ({"language": "python", "version": "*", "files": PY, "stdin": 5}, 400, r"stdin must be a string"),
    ({"language": "python", "version": "*", "files": PY, "args": "1 2"}, 400, r"args must be an array"),
    ({"language": "python", "version": "*", "files": PY, "run_timeout": "3000"}, 400,
     r"run_timeout must be a number"),
    ({"language": "python", "version": "*", "files": PY, "run_timeout": True}, 400, r"run_timeout must be a number"),
    ({"language": "python", "version": "*", "files": PY, "run_timeout": -5}, 400, r"run_timeout must be non-negative"),
    ({"language": "python", "version": "*", "files": PY, "run_timeout": 61000}, 400,
     r"run_timeout cannot exceed the configured limit of 60000 \(this server's ceiling is 60 s\)"),
    ({"language": "python", "version": "*", "files": PY, "run_memory_limit": 2 * 1024 * MiB}, 400,
     r"run_memory_limit cannot exceed .* \(this server's ceiling is 1 GiB\)"),
    ({"language": "python", "version": "*", "files": PY, "run_memory_limit": 1000}, 400, r"memory .* too little"),
    ({"language": "python", "version": "*", "files": PY, "compile_cpu_time": "x"}, 400, r"compile_cpu_time must be"),
    (b"print(1)", 400, r"the request body is not JSON"),
    (b"", 400, r"the request body is empty"),
    (b"   \n", 400, r"the request body is empty"),
    (b"[1, 2]", 400, r"must be a JSON object, not an array"),
    (b'"python"', 400, r"must be a JSON object, not a string"),
    (b'{"language": "python", "version": "*", "files": [{"content": "print(1)"}], "run_timeout": NaN}', 400,
     r"NaN is not a JSON number"),
    (b"\xff\xfe{}", 400, r"not UTF-8"),
    (b'{"language": "python", "version": "*", "files": [{"content": "print(1)"}], "stdin": "\\ud800"}', 400,
     r"stdin is not valid Unicode"),
    (b'{"language": "python", "version": "*", "files": [{"content": "print(\\"\\udfff\\")"}]}', 400,
     r"files\[0\]\.content is not valid Unicode"),
    ({"language": "python", "version": "*", "files": PY, "run_timeout": 0.5}, 400, r"at least 1"),
    (b'{"language": "python", "version": "*", "files": [{"content": "print(1)"}], "run_timeout": 1e999}', 400,
     r"run_timeout cannot exceed"),
    (b'{"language": "python", "version": "*", "files": [{"content": "print(1)"}], "run_memory_limit": -1e999}',
     400, r"run_memory_limit must be non-negative"),
    (b"[" * 100_000, 400, r"not JSON"),
]


@pytest.mark.parametrize("body, status, message", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_a_bad_request_is_a_4xx_with_a_message(server, body, status, message):
    response = post(server, body)
    assert response.status_code == status, response.text
    said = response.json()["message"]
    assert isinstance(said, str) and re.search(message, said), said


def test_ultra_piston_hears_a_bad_request_as_one(server):
    with pytest.raises(BadRequestError):
        ultra(server).post_execute("cobol", "*", File(content="DISPLAY 'HI'."))


def test_oversized_bodies_and_wrong_methods_answer_in_pistons_shape(server):
    too_big = post(server, json.dumps({"language": "python", "version": "*",
                                       "files": [{"content": "#" * (2 * MiB)}]}).encode())
    assert too_big.status_code == 413 and "message" in too_big.json()
    wrong = httpx.get(f"{server.url}/api/v2/execute", timeout=30)
    assert wrong.status_code == 405 and "message" in wrong.json()


# --- tokens ----------------------------------------------------------------------------------------

def test_with_tokens_a_piston_client_sends_its_key(sandbox, tmp_path):
    guarded = start_server(tmp_path / "guarded", "--token", "ada=s3cret")
    try:
        refused = httpx.get(f"{guarded.url}/api/v2/runtimes", timeout=30)
        assert refused.status_code == 401 and "token" in refused.json()["message"]
        refused = post(guarded, {"language": "bash", "version": "*", "files": [{"content": "echo no"}]})
        assert refused.status_code == 401 and "message" in refused.json()
        client = ultra(guarded, api_key="Bearer s3cret")
        assert client.post_execute("bash", "*", File(content="echo yes")).run.stdout == "yes\n"
        assert guarded.rows(origin="piston")[0]["user"] == "ada"
    finally:
        stop_server(guarded, sandbox)


# --- the range matcher against npm's own semver ------------------------------------------------------

RANGES = ["*", "", "x", "3", "3.x", "3.X", "3.11", "3.11.x", "3.11.*", "3.11.2", "=3.11.2", "v3.11.2", "= 3.11.2",
          "3.11.3", "3.10", ">=3.10", ">= 3.10", ">3", ">3.11", ">3.11.1", ">=3.11.2", ">3.11.2", "<4", "<3.11",
          "<=3.11", "<=3", "<3.11.2", "<=3.11.2", "<=3.11.x", ">3.x", "<3.x", ">=3.10 <4", ">=3.10 <3.11",
          "~3.11", "~3.11.0", "~3", "~> 3.11.1", "~3.11.3", "~3.x.2", "^3", "^3.10", "^3.12", "^3.11.2", "^3.x",
          "^0.2", "^0.2.1", "^0.0.3", "^0.0.2", "^0", "^0.x", "^0.0", "~0.0", "1 - 4", "3.11 - 3.12",
          "3.0.0 - 3.11.1", "3.0.0 - 3.11", "18 - 18.20.4", "5.2.15 - 5.2", "x - 4", "x.2 - 4", "3.11.2 - *",
          "2 || 3", "2.x || >=3.11.1 <3.12", "1.2.3 || 18", ">=3.10 || ", "|| 3", "<*", ">*", ">=*", "=*",
          "3.11.2-rc1", ">=3.11.2-rc1", "<3.11.2-rc1", "^3.11.2-beta", "~3.11.2-beta.1", "3.11.2+build",
          "1.0.0 - 1.0.0-1", "<1.0.0-0", ">1.0.0-0", "latest", "python", "3.11.2.1", "03.11", "3.011", ">=3.1o",
          "3 .11", "  3.11  ", "~", "^", ">", "<=", "x.2", "3.x.2", "*.11", "x.x", "*.*.*", "12.x.x",
          ">=12.1.0 <12.2.0", "12.2.0 12.2.0", "~1", "^1.0.0"]


def test_the_version_matcher_agrees_with_npm_semver(node_modules):
    pairs = [(version, spec) for version in ("3.11.2", "18.20.4", "5.2.15", "12.2.0", "0.2.3", "0.0.3", "1.0.0")
             for spec in RANGES]
    npm = npm_client(node_modules, semver=pairs)["semver"]
    differ = [(version, spec, said) for (version, spec), said in zip(pairs, npm, strict=True)
              if satisfies(version, spec) != said]
    assert differ == []
