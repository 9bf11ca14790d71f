"""Judge0 CE compatibility, tested as Judge0's clients use it: the real server
(`tui-sandbox serve` on 127.0.0.1, a free port, a history of its own), real containers,
and Judge0's official Python SDK from PyPI (`judge0`), unmodified; then Judge0's own
documented curl calls, with curl. Without Docker or the images these tests fail; they
never skip."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess

import judge0
import pytest
from judge0 import LanguageAlias, Status, Submission

TOKEN = "j0-secret"


@pytest.fixture(scope="module")
def client(server):
    return judge0.Client(f"{server.url}/judge0")


def run(client, source: str, language=LanguageAlias.PYTHON, **fields) -> Submission:
    return judge0.run(client=client, source_code=source, language=language, **fields)


def message_of(done: Submission) -> str:
    """Judge0 sends `message` in Base64 too when asked (the SDK always asks), and its SDK
    does not decode it."""
    return base64.b64decode(done.message).decode()


# --- the official SDK ---------------------------------------------------------------------

def test_hello_world_is_accepted_with_judge0s_figures(client):
    done = run(client, "print('hello, world')")
    assert done.status is Status.ACCEPTED and done.stdout == "hello, world\n", done
    assert done.stderr is None and done.compile_output is None and done.exit_code == 0
    assert done.time is not None and done.wall_time is not None and done.memory > 0
    assert done.token is not None and done.created_at is not None and done.finished_at is not None


@pytest.mark.parametrize("language, source, version", [
    (LanguageAlias.JAVASCRIPT, "console.log('hi')", "JavaScript (Node.js 18."),
    (LanguageAlias.BASH, "echo hi", "Bash (5.2."),
    (LanguageAlias.C, '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n', "C (GCC 12."),
])
def test_each_language_by_judge0s_id_with_its_real_version(client, language, source, version):
    assert run(client, source, language).stdout == "hi\n"
    names = {one.id: one.name for one in client.get_languages()}
    assert names[client.get_language_id(language)].startswith(version), names
    assert names[71].startswith("Python (3.11.")


def test_a_wrong_answer_and_a_right_one_by_the_expected_output(client):
    wrong = run(client, "print(2 + 2)", expected_output="5\n")
    assert wrong.status is Status.WRONG_ANSWER and wrong.stdout == "4\n"
    assert message_of(wrong) == "line 1: expected '5', got '4'"
    right = run(client, "print(2 + 2)  ", expected_output="4   \n\n")     # compared as Judge0 does
    assert right.status is Status.ACCEPTED


def test_test_cases_go_as_a_batch_and_come_back_by_their_tokens(client):
    cases = [("3\n", "6\n"), ("5\n", "10\n"), ("7\n", "15\n")]
    done = judge0.run(client=client, source_code="print(int(input()) * 2)", language=LanguageAlias.PYTHON,
                      test_cases=cases)
    assert [one.status for one in done] == [Status.ACCEPTED, Status.ACCEPTED, Status.WRONG_ANSWER]
    assert [one.stdout for one in done] == ["6\n", "10\n", "14\n"]
    assert len({one.token for one in done}) == 3


def test_a_timeout(client):
    done = run(client, "while True: pass", wall_time_limit=1)
    assert done.status is Status.TIME_LIMIT_EXCEEDED
    assert "Timed out after 1 s" in message_of(done)


def test_a_compile_error_has_its_compile_output(client):
    done = run(client, "int main(void) { return missing; }\n", LanguageAlias.C)
    assert done.status is Status.COMPILATION_ERROR
    assert "missing" in done.compile_output and done.stdout is None and done.time is None


def test_a_segfault_and_the_other_runtime_errors(client):
    segfault = run(client, "#include <signal.h>\nint main(void) { raise(SIGSEGV); return 0; }\n", LanguageAlias.C)
    assert segfault.status is Status.RUNTIME_ERROR_SIGSEGV and segfault.exit_signal == 11
    fpe = run(client, "#include <signal.h>\nint main(void) { raise(SIGFPE); return 0; }\n", LanguageAlias.C)
    assert fpe.status is Status.RUNTIME_ERROR_SIGFPE
    nzec = run(client, "import sys\nsys.exit(3)")
    assert nzec.status is Status.RUNTIME_ERROR_NZEC and nzec.exit_code == 3


def test_an_oom_kill_says_so_in_its_message(client):
    done = run(client, "x = bytearray(200 * 1024 * 1024)", memory_limit=64 * 1024)
    assert done.status in (Status.RUNTIME_ERROR_OTHER, Status.RUNTIME_ERROR_NZEC), done
    assert "Out of memory" in message_of(done)


def test_base64_both_ways_with_text_json_cannot_carry(client):
    source = "import sys\nsys.stdout.write(sys.stdin.read().upper() + '\\u00e9\\x01')"
    done = run(client, source, stdin="abc\x02", expected_output="ABC\x02\u00e9\x01")
    assert done.status is Status.ACCEPTED and done.stdout == "ABC\x02\u00e9\x01"


def test_a_submission_waits_its_turn_and_says_so(server, client):
    created = client.create_submission(Submission(source_code="import time; time.sleep(1); print(1)",
                                                  language=LanguageAlias.PYTHON))
    assert client.get_submission(created, fields="status").status in (Status.IN_QUEUE, Status.PROCESSING)
    judge0.wait(client=client, submissions=created)
    assert created.status is Status.ACCEPTED and created.stdout == "1\n"


def test_the_sdk_reads_the_statuses_config_and_about(client):
    assert {status["id"] for status in client.get_statuses()} == set(range(1, 15))
    assert client.version == "1.13.1" and client.config.max_submission_batch_size == 20
    assert client.get_language(71).source_file == "main.py"


# --- Judge0's documented curl calls, and what the SDK does not show ------------------------

def curl(server, *args: str) -> tuple[int, dict | list | None]:
    done = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True, text=True,
                          timeout=60, check=True)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), (json.loads(body) if body.strip() else None)


def test_the_documented_calls_with_curl(server):
    url = f"{server.url}/submissions"
    status, created = curl(server, "-X", "POST", f"{url}?base64_encoded=false&wait=false",
                           "-H", "Content-Type: application/json",
                           "-d", json.dumps({"source_code": "print('hello, ' + input())", "language_id": 71,
                                             "stdin": "Judge0"}))
    assert status == 201 and set(created) == {"token"}
    status, answer = curl(server, f"{url}/{created['token']}?base64_encoded=false&fields=stdout,status_id,language_id")
    for _ in range(100):
        if answer["status_id"] > 2:
            break
        status, answer = curl(server, f"{url}/{created['token']}?fields=stdout,status_id,language_id")
    assert answer == {"stdout": "hello, Judge0\n", "status_id": 3, "language_id": 71}

    status, waited = curl(server, "-X", "POST", f"{url}?base64_encoded=true&wait=true", "-H",
                          "Content-Type: application/json", "-d",
                          json.dumps({"source_code": base64.b64encode(b"print(42)").decode(), "language_id": 71}))
    assert status == 201 and base64.b64decode(waited["stdout"]) == b"42\n"
    assert set(waited) == {"token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status"}
    assert waited["status"] == {"id": 3, "description": "Accepted"}
    assert isinstance(waited["time"], str) and isinstance(waited["memory"], int)

    status, batch = curl(server, f"{url}/batch?tokens={created['token']},nope&base64_encoded=false&fields=stdout")
    assert status == 200 and batch == {"submissions": [{"stdout": "hello, Judge0\n"}, None]}
    status, error = curl(server, f"{url}/{created['token']}?fields=stdout,banana")
    assert status == 400 and error["error"] == "invalid fields: [banana]"


def test_a_field_we_cannot_honour_is_a_422_that_says_which_and_why(server):
    def submit(**fields):
        return server.client.post("/judge0/submissions?wait=true", json={"source_code": "print(1)",
                                                                       "language_id": 71, **fields})

    assert submit(language_id=150000).json()["language_id"][0].startswith("language with id 150000 doesn't")
    assert "can't be blank" in server.client.post("/submissions", json={"language_id": 71}).json()["source_code"]
    for field, value, why in (("command_line_arguments", "a b", "no command-line arguments"),
                              ("redirect_stderr_to_stdout", True, "cannot be enabled"),
                              ("cpu_time_limit", 1, "send wall_time_limit instead"),
                              ("number_of_runs", 3, "must be 1"), ("callback_url", "http://127.0.0.1:9/x", "callbacks"),
                              ("compiler_options", "-O3", "only allowed for compiled languages"),
                              ("memory_limit", 64 * 1024 * 1024, "less than or equal to"),
                              ("wall_time_limit", 0.5, "greater than or equal to 1")):
        answer = submit(**{field: value})
        assert answer.status_code == 422 and why in answer.json()[field][0], (field, answer.text)
    # The neutral values clients send are accepted, and honoured limits are echoed back.
    neutral = submit(cpu_time_limit=5, cpu_extra_time=1, enable_network=False, number_of_runs=1,
                     redirect_stderr_to_stdout=False, command_line_arguments="", compiler_options=None,
                     wall_time_limit=2, memory_limit=65536, max_processes_and_or_threads=16,
                     enable_per_process_and_thread_time_limit=False)
    assert neutral.status_code == 201, neutral.text
    token = neutral.json()["token"]
    echoed = server.client.get(f"/judge0/submissions/{token}?fields=wall_time_limit,memory_limit,"
                               "max_processes_and_or_threads,enable_network").json()
    assert echoed == {"wall_time_limit": "2.000", "memory_limit": 65536, "max_processes_and_or_threads": 16,
                      "enable_network": False}


def test_a_submission_is_a_run_of_the_history_and_can_be_deleted(server):
    answer = server.client.post("/submissions?wait=true&fields=token,status", json={
        "source_code": "print(1)", "language_id": 71, "expected_output": "2"}).json()
    assert answer["status"]["id"] == 4
    token = answer["token"]
    run = server.client.get(f"/runs/{token}").json()
    assert run["origin"] == "judge0" and run["passed"] is False
    assert run["first_difference"] == "line 1: expected '2', got '1'"
    db = sqlite3.connect(server.history)
    assert db.execute("SELECT passed, first_difference FROM runs WHERE id = ?", (token,)).fetchone() == (
        0, "line 1: expected '2', got '1'")
    deleted = server.client.delete(f"/submissions/{token}?fields=stdout")
    assert deleted.status_code == 200 and base64.b64decode(deleted.json()["stdout"]) == b"1\n"
    assert server.client.get(f"/submissions/{token}").status_code == 404
    assert db.execute("SELECT COUNT(*) FROM runs WHERE id = ?", (token,)).fetchone() == (0,)
    db.close()


def test_the_judge0_paths_at_the_root_and_our_languages_kept(server):
    assert server.client.get("/statuses").json()[3] == {"id": 4, "description": "Wrong Answer"}
    assert server.client.get("/about").json()["version"] == "1.13.1"
    assert "max_memory_limit" in server.client.get("/config_info").json()
    assert "CPU(s)" in server.client.get("/system_info").json()
    ours = server.client.get("/languages").json()
    assert {"name", "aliases"} <= set(ours[0])        # ours, not Judge0's, at the root
    assert {one["id"] for one in server.client.get("/judge0/languages").json()} == {46, 50, 63, 71}
    assert server.client.get("/judge0/languages/71").json()["id"] == 71
    # Digits that int() refuses ("³" is a digit to str.isdigit): a 404 that says so, not a 500.
    for odd in ("³", "٣", "99"):
        answer = server.client.get(f"/judge0/languages/{odd}")
        assert answer.status_code == 404 and "doesn't exist" in answer.json()["error"], (odd, answer.text)


def test_x_auth_token_is_a_token_and_the_sdk_sends_it(serve):
    guarded = serve("--token", f"ada={TOKEN}")
    assert guarded.client.get("/judge0/about").status_code == 401
    sdk = judge0.Client(f"{guarded.url}/judge0", headers={"X-Auth-Token": TOKEN})
    done = run(sdk, "print('mine')")
    assert done.status is Status.ACCEPTED
    assert guarded.client.get(f"/runs/{done.token}", headers={"X-Auth-Token": TOKEN}).json()["user"] == "ada"
    assert guarded.client.get(f"/runs/{done.token}", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    with pytest.raises(RuntimeError, match="Authentication failed"):
        judge0.Client(f"{guarded.url}/judge0", headers={"X-Auth-Token": "wrong"})
