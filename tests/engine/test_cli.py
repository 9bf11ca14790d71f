"""`tui-sandbox run` as scripts and graders use it: exit statuses, --json, streaming."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.walls import WALL_KINDS

from ..conftest import containers_owned_by, left_by

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, stdin: bytes = b"", env=None, timeout=60):
    # Standard input is always a pipe here (empty unless given): never the terminal that
    # may have started pytest, which would make the run interactive.
    return subprocess.run([sys.executable, "-m", "tui_sandbox", *args], input=stdin, capture_output=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture
def program(tmp_path):
    def write(text: str, name: str = "prog.py") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


def test_run_streams_output_then_the_verdict_line(sandbox, program):
    done = cli("run", program("print('hi')\nimport sys; print('warn', file=sys.stderr)"))
    assert done.returncode == 0
    assert done.stdout == b"hi\n"
    assert done.stderr.startswith(b"warn\n")
    assert b"OK: Finished normally" in done.stderr


def test_json_has_the_result_fields_language_runtime_and_limits(sandbox, program):
    done = cli("run", program("print('hi')"), "--json", "--memory", "64m", "--timeout", "5")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    for key in ("verdict", "exit_code", "signal", "kill_reason", "output", "error", "duration_s",
                "peak_memory_bytes", "truncated", "language", "runtime", "limits"):
        assert key in data, key
    assert data["verdict"] == "ok" and data["output"] == "hi\n" and data["language"] == "python"
    assert data["limits"]["memory_bytes"] == 64 * 2**20 and data["limits"]["timeout_s"] == 5
    assert data["limits"]["network"] is False and data["limits"]["read_only"] is True


@pytest.mark.parametrize("runtime", ["auto", "runc", "runsc"])     # auto: the default, crun here
def test_the_command_leaves_nothing_unwritten_or_unremoved(sandbox, program, runtime):
    # `run` skips the interpreter's teardown: what it buffered must still go out whole, and
    # its container must be gone (under gVisor nothing removes it but the command).
    source = program("import sys\nsys.stdout.write('a' * 900_000)\nsys.stderr.write('b' * 50_000)")
    process = subprocess.Popen([sys.executable, "-m", "tui_sandbox", "run", source, "--runtime", runtime],
                               cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-500:]
    assert out == b"a" * 900_000 and err.startswith(b"b" * 50_000) and b"OK: Finished normally" in err
    assert left_by(sandbox, process.pid, runtime) == []
    as_json = cli("run", source, "--runtime", runtime, "--json")
    assert json.loads(as_json.stdout)["output"] == "a" * 900_000


@pytest.mark.parametrize("source, status, verdict", [
    ("import sys; sys.exit(3)", 3, "error"),
    ("while True: pass", 124, "timeout"),
    ("s = ' ' * 2**30", 137, "oom"),
])
def test_exit_status_follows_the_verdict(sandbox, program, source, status, verdict):
    done = cli("run", program(source), "--timeout", "1", "--json")
    assert done.returncode == status
    assert json.loads(done.stdout)["verdict"] == verdict


def test_language_from_extension_and_from_flag(sandbox, program):
    assert cli("run", program("console.log('js')", "a.js"), "--json").returncode == 0
    assert json.loads(cli("run", program("echo sh", "a.sh"), "--json").stdout)["output"] == "sh\n"
    done = cli("run", "-", "-l", "bash", "--json", stdin=b"echo from stdin")
    assert json.loads(done.stdout)["output"] == "from stdin\n"


def test_stdin_file_feeds_the_program(sandbox, program, tmp_path):
    (tmp_path / "in.txt").write_text("3 4\n")
    done = cli("run", program("a, b = map(int, input().split()); print(a * b)"), "--stdin-file",
               str(tmp_path / "in.txt"), "--json")
    assert json.loads(done.stdout)["output"] == "12\n"


def test_network_and_read_only_toggles(sandbox, program):
    source = "import socket; print(sorted(n for _, n in socket.if_nameindex()))"
    assert json.loads(cli("run", program(source), "--json").stdout)["output"] == "['lo']\n"
    assert "eth0" in json.loads(cli("run", program(source), "--network", "--json").stdout)["output"]
    write = "open('/sandbox/f', 'w').write('x'); print('wrote')"
    assert json.loads(cli("run", program(write), "--json").stdout)["verdict"] == "error"
    assert json.loads(cli("run", program(write), "--writable", "--json").stdout)["output"] == "wrote\n"


@pytest.mark.parametrize("args, message", [
    (["--memory", "2m"], "below Docker's minimum"),
    (["--memory", "12q"], "unknown size suffix"),
    (["--cpus", "999"], "more than this host has"),
    (["--timeout", "0"], "more than zero"),
    (["--timeout", "-3"], "more than zero"),
    (["--pids", "many"], "not a whole number"),
])
def test_bad_limits_are_messages_with_status_2(program, args, message):
    done = cli("run", program("print(1)"), *args)
    assert done.returncode == 2
    assert message in done.stderr.decode()
    assert b"Traceback" not in done.stderr


def test_bad_files_and_languages_are_messages(program, tmp_path):
    missing = cli("run", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and b"no such file" in missing.stderr
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    assert b"not UTF-8" in cli("run", str(binary)).stderr
    unknown = cli("run", program("x", "prog.xyz"))
    assert unknown.returncode == 2 and b"-l/--lang" in unknown.stderr
    lang = cli("run", program("x"), "-l", "cobol")
    assert lang.returncode == 2 and b"unknown language" in lang.stderr
    assert cli("run", str(tmp_path)).returncode == 2
    no_input = cli("run", program("print(1)"), "--stdin-file", str(tmp_path / "absent.txt"))
    assert no_input.returncode == 2 and b"cannot read the input file" in no_input.stderr
    for done in (missing, unknown, lang):
        assert b"Traceback" not in done.stderr


def test_no_engine_is_status_125_with_the_fix(program, tmp_path):
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    done = cli("run", program("print(1)"), "--json", env=env)
    assert done.returncode == 125
    data = json.loads(done.stdout)
    assert data["verdict"] == "engine_error" and "no Docker engine" in data["message"] and data["fix"]
    plain = cli("run", program("print(1)"), env=env)
    assert plain.returncode == 125 and b"fix:" in plain.stderr and b"Traceback" not in plain.stderr
    doctor = cli("doctor", env=env)
    assert doctor.returncode == 1 and b"NO  engine" in doctor.stdout


def test_doctor_and_images_list_on_a_working_engine(sandbox):
    doctor = cli("doctor")
    assert doctor.returncode == 0, doctor.stdout.decode()
    lines = doctor.stdout.decode().splitlines()
    assert any(line.startswith("ok  engine: Docker") for line in lines)
    assert sum("image: tui-sandbox-" in line for line in lines) == 4
    # Every registered runtime, with what differs about it (runner/runtimes.py).
    for name in sandbox.info.runtimes:
        line = next(line for line in lines if line.startswith(f"ok  runtime: {name} registered"))
        assert "seccomp profile" in line and "network" in line, line
    assert "seccomp profile not loaded" in next(line for line in lines if "runtime: runsc registered" in line)
    # Which one a run that names none gets here, and why.
    default = next(line for line in lines if line.startswith("ok  runtime by default: "))
    assert default.startswith("ok  runtime by default: crun: registered here; an OCI runtime in C, as isolated "
                              "as runc") and "starts containers faster" in default, default
    listing = cli("images", "list").stdout.decode()
    assert listing.count("present") == 4


def test_run_imports_neither_textual_nor_any_server_library(sandbox, program):
    heavy = ("textual", "fastapi", "starlette", "uvicorn", "limits", "asyncssh", "textual_serve", "sqlite3")
    code = ("import sys; from tui_sandbox.cli import main; status = main(['run', sys.argv[1], '--json']);"
            f"print('LOADED', sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))")
    done = subprocess.run([sys.executable, "-c", code, program("print(1)")], capture_output=True, cwd=ROOT)
    assert done.stdout.decode().splitlines()[-1] == "LOADED []"


def test_a_socket_not_permitted_is_status_125_with_the_fix(tmp_path):
    # Drop to nobody after the imports (this interpreter lives where nobody may not read),
    # then meet the root-owned, group-docker socket as a user outside that group would.
    code = ("import os, sys, json, http.client, runner.sandbox, runner.docker.backend\n"
            "from tui_sandbox.cli import main\n"
            "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
            "sys.exit(main(['run', '-', '-l', 'python', '--json']))\n")
    # root's own config is not nobody's to read: nobody has none.
    env = {**os.environ, "XDG_CONFIG_HOME": "/nonexistent/tui-sandbox-config"}
    done = subprocess.run([sys.executable, "-c", code], input=b"print(1)", capture_output=True,
                          cwd=ROOT, timeout=60, env=env)
    assert done.returncode == 125, done.stderr
    data = json.loads(done.stdout)
    assert data["verdict"] == "engine_error" and "not permitted" in data["message"]
    assert "docker group" in data["fix"] and b"Traceback" not in done.stderr


def test_a_closed_pipe_ends_quietly_and_leaves_no_container(sandbox, program):
    flood = program("while True: print('x' * 50)")
    cli_process = subprocess.Popen([sys.executable, "-m", "tui_sandbox", "run", flood], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert cli_process.stdout.readline().startswith(b"xxxxx")
    cli_process.stdout.close()                  # what `| head -1` does
    _, err = cli_process.communicate(timeout=30)
    assert cli_process.returncode == 141
    assert b"Traceback" not in err
    assert containers_owned_by(sandbox, cli_process.pid) == []
    doctor = subprocess.run(f"{sys.executable} -m tui_sandbox doctor | head -1", shell=True,
                            capture_output=True, cwd=ROOT)
    assert doctor.stdout.startswith(b"ok  engine") and b"Traceback" not in doctor.stderr


def test_at_a_terminal_the_program_reads_what_is_typed(sandbox, program):
    import select
    import time

    from ..terminal import at_terminal

    path = program('name = input("Your name? ")\nprint("Hello,", name)\n')
    # tui-sandbox run with a terminal on its standard input
    process, terminal = at_terminal([sys.executable, "-m", "tui_sandbox", "run", path])
    seen, answered, deadline = b"", False, time.monotonic() + 30
    while time.monotonic() < deadline:
        if select.select([terminal], [], [], 0.2)[0]:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if b"Your name? " in seen and not answered:
                os.write(terminal, b"Ada\n")
                answered = True
    code = process.wait()
    os.close(terminal)
    text = seen.decode()
    assert code == 0, text
    assert "Hello, Ada" in text and "── OK: Finished normally" in text


def test_a_wall_is_a_line_on_stderr_as_it_happens_and_in_the_json(sandbox, program):
    from .test_walls import FORKS

    path = program(FORKS.replace('print("refused"', 'time.sleep(0.6)\nprint("refused"'))
    done = cli("run", path, "--pids", "16")
    lines = done.stderr.decode().splitlines()
    walls = [line for line in lines if line.startswith("── wall: ")]
    assert walls and walls[0].startswith("── wall: process  fork  blocked (EAGAIN): the PID limit of 16"), lines
    refused = int(done.stdout.split()[1])
    assert walls[-1].endswith(f"×{refused}") or refused == 1, lines
    assert lines[-1].startswith("── OK: ") and lines.index(walls[-1]) < len(lines) - 1
    data = json.loads(cli("run", path, "--pids", "16", "--json").stdout)
    assert data["walls_watched"] == sorted(WALL_KINDS) and data["blocked"][0]["kind"] == "process"
    assert json.loads(cli("run", program("print(1)"), "--json").stdout)["blocked"] == []


def test_every_kind_of_wall_on_stderr_and_in_the_json(sandbox, program):
    from .test_walls import EVERY_KIND, EVERY_KIND_WALLS

    path = program(EVERY_KIND)
    said = cli("run", path, "--pids", "16").stderr.decode()
    for kind, call, target in EVERY_KIND_WALLS:
        assert any(line.startswith(f"── wall: {kind}  {call}") and target in line
                   for line in said.splitlines()), (kind, call, said)
    data = json.loads(cli("run", path, "--pids", "16", "--json").stdout)
    assert {(w["kind"], w["call"], w["target"]) for w in data["blocked"]} == EVERY_KIND_WALLS
