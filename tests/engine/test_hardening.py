"""Hardening and the toggles, seen from inside the container, and the seeds' experiments."""

import json
import os

import pytest

from runner import LimitError, RuntimeUnavailable, Verdict
from runner.limits import Limits
from runner.runtimes import runtime as traits_of
from runner.units import MiB

from .runtimes import RUNTIMES

PROBE = r"""
import json, os, socket
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(),
    "cap_eff": status["CapEff"].strip(), "cap_prm": status["CapPrm"].strip(),
    "cap_bnd": status["CapBnd"].strip(),
    "no_new_privs": status.get("NoNewPrivs", "").strip(), "seccomp": status.get("Seccomp", "").strip(),
    "interfaces": sorted(name for _, name in socket.if_nameindex()),
    "cwd": os.getcwd(), "env": dict(os.environ), "pid": os.getpid(),
    # gVisor's /proc/self/status has no NoNewPrivs line: ask the kernel (PR_GET_NO_NEW_PRIVS).
    "prctl_no_new_privs": __import__("ctypes").CDLL(None).prctl(39, 0, 0, 0, 0),
}))
"""


def probe(run, **limits):
    result = run(PROBE, **limits)
    assert result.verdict is Verdict.OK, result.error
    return json.loads(result.output)


def test_runs_as_a_non_root_user_with_no_capabilities(run):
    seen = probe(run)
    assert seen["uid"] == seen["euid"] == 10001 and seen["gid"] == 10001
    assert int(seen["cap_eff"], 16) == 0
    assert int(seen["cap_prm"], 16) == 0
    assert int(seen["cap_bnd"], 16) == 0


def test_no_new_privileges_and_seccomp_filter(run):
    seen = probe(run)
    assert seen["no_new_privs"] == "1" and seen["prctl_no_new_privs"] == 1
    assert seen["seccomp"] == "2"          # filter mode: our profile (test_seccomp.py says which)


def test_network_off_leaves_only_loopback(run):
    assert probe(run)["interfaces"] == ["lo"]


def test_network_off_is_a_namespace_of_its_own_with_a_working_loopback(run):
    # The engine skips Docker's network set-up when the network is off: the program must
    # still be in a namespace of its own, not the host's, and localhost must still work.
    source = r"""
import os, socket, threading
print("netns", os.readlink("/proc/self/ns/net"))
print("localhost", socket.gethostbyname("localhost"), "hostname", bool(socket.gethostbyname(socket.gethostname())))
server = socket.create_server(("localhost", 0))
threading.Thread(target=lambda: server.accept()[0].sendall(b"pong"), daemon=True).start()
print("reply", socket.create_connection(server.getsockname()[:2], timeout=3).recv(4).decode())
"""
    for runtime in RUNTIMES:
        result = run(source, runtime=runtime)
        assert result.verdict is Verdict.OK, (runtime, result.error)
        lines = dict(line.split(" ", 1) for line in result.output.splitlines())
        assert lines["localhost"] == "127.0.0.1 hostname True" and lines["reply"] == "pong", (runtime, lines)
        if not traits_of(runtime).own_kernel:     # the host's namespaces: not the test's own
            assert lines["netns"] != os.readlink("/proc/self/ns/net")


def test_network_on_gives_an_interface_that_works_within_the_container(run):
    # No traffic leaves the machine: the program talks to a server it runs itself, on
    # the address of its own non-loopback interface.
    source = r"""
import socket, threading, fcntl, struct
names = sorted(name for _, name in socket.if_nameindex() if name != "lo")
print("interfaces", names)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
addr = socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", names[0].encode()))[20:24])
server = socket.create_server((addr, 0))
port = server.getsockname()[1]
threading.Thread(target=lambda: server.accept()[0].sendall(b"pong"), daemon=True).start()
client = socket.create_connection((addr, port), timeout=3)
print("reply", client.recv(4).decode(), "private", addr.startswith(("10.", "172.", "192.168.")))
"""
    result = run(source, network=True)
    assert result.verdict is Verdict.OK, result.error
    assert "eth0" in result.output
    assert "reply pong private True" in result.output
    off = run(source)
    assert off.verdict is Verdict.ERROR and "IndexError" in off.error


def test_dns_lookup_fails_with_the_network_off(run):
    # With only lo there is no resolver to reach: the lookup fails at once, sending nothing.
    source = """
import socket
try:
    socket.getaddrinfo("tui-sandbox-test.invalid", 80)
    print("resolved")
except socket.gaierror as e:
    print("gaierror", e.errno)
"""
    result = run(source)
    assert result.output.strip() in (f"gaierror {socket_eai_again()}", f"gaierror {socket_eai_noname()}")
    assert result.output.strip() != "resolved"


def socket_eai_again():
    import socket
    return socket.EAI_AGAIN


def socket_eai_noname():
    import socket
    return socket.EAI_NONAME


def test_host_environment_never_reaches_the_container(run, monkeypatch):
    monkeypatch.setenv("TUI_SANDBOX_TEST_SECRET", "hunter2")
    env = probe(run)["env"]
    assert "TUI_SANDBOX_TEST_SECRET" not in env
    assert all("hunter2" not in value for value in env.values())
    assert set(env) <= {"PATH", "HOME", "LANG", "TERM", "HOSTNAME", "PYTHONUNBUFFERED",
                        "PYTHONDONTWRITEBYTECODE", "LC_CTYPE"}


def test_working_directory_is_the_code_directory_not_tmp(run):
    assert probe(run)["cwd"] == "/sandbox"


def test_etc_passwd_is_the_containers_own(run):
    result = run("print(open('/etc/passwd').read())")
    assert "sandbox:x:10001:10001" in result.output
    host_users = {line.split(":")[0] for line in open("/etc/passwd") if line.strip()}
    container_users = {line.split(":")[0] for line in result.output.splitlines() if line.strip()}
    assert container_users != host_users or "sandbox" not in host_users


WRITE_PROBE = r"""
import os
def attempt(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "ok"
    except OSError as e:
        return type(e).__name__ + ":" + str(e.errno)
for path in ["/tmp/t", "/sandbox/new.txt", "/home/sandbox/h", "/etc/x", "/x", "/dev/x", "/dev/shm/x",
             "/dev/mqueue/x", "/var/tmp/x"]:
    print(path, attempt(path))
try:
    open(__file__, "w").write("print('changed')")
    print("self", "ok")
except OSError as e:
    print("self", type(e).__name__)
for action in ("remove", "rename"):
    try:
        os.remove(__file__) if action == "remove" else os.rename(__file__, "/sandbox/moved.py")
        print(action, "ok")
    except OSError as e:
        print(action, type(e).__name__)
original = open(__file__).read()
try:
    os.chmod(__file__, 0o666)   # mode bits may change: the seals, not the mode, guard the content
except OSError:
    pass
for mode in ("w", "a", "r+"):
    try:
        with open(__file__, mode) as f:
            f.write("x")
        print("after-chmod-" + mode, "ok")
    except OSError as e:
        print("after-chmod-" + mode, type(e).__name__)
print("unchanged", open(__file__).read() == original)
"""


def outcomes(result) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in result.output.splitlines())


def test_read_only_root_leaves_only_tmp_writable(run):
    seen = outcomes(run(WRITE_PROBE))
    assert seen["/tmp/t"] == "ok"
    for path in ["/sandbox/new.txt", "/home/sandbox/h", "/etc/x", "/x", "/dev/x", "/dev/shm/x",
                 "/dev/mqueue/x", "/var/tmp/x"]:
        assert seen[path] != "ok", path
    assert seen["self"] != "ok" and seen["remove"] != "ok" and seen["rename"] != "ok"
    assert all(seen[f"after-chmod-{mode}"] != "ok" for mode in ("w", "a", "r+"))
    assert seen["unchanged"] == "True"


def test_writable_mode_opens_the_working_directory_and_home_but_never_the_source(run):
    seen = outcomes(run(WRITE_PROBE, read_only=False))
    for path in ["/tmp/t", "/sandbox/new.txt", "/home/sandbox/h"]:
        assert seen[path] == "ok", path
    assert seen["/dev/x"] != "ok" and seen["/dev/mqueue/x"] != "ok"
    assert seen["self"] != "ok" and seen["remove"] != "ok" and seen["rename"] != "ok"
    assert all(seen[f"after-chmod-{mode}"] != "ok" for mode in ("w", "a", "r+"))
    assert seen["unchanged"] == "True"


def test_overwriting_its_own_script_fails_and_the_next_run_is_unchanged(run):
    result = run("open(__file__, 'w').write('x')")
    assert result.verdict is Verdict.ERROR
    assert "PermissionError" in result.error or "OSError" in result.error


def test_tmp_is_capped_at_its_size(run):
    result = run("open('/tmp/big', 'wb').write(b'0' * (20 * 2**20))", tmp_size=4 * MiB, memory=256 * MiB)
    assert result.verdict is Verdict.ERROR
    assert "No space left on device" in result.error


def test_file_size_cap_stops_a_large_write_in_writable_mode(run):
    result = run("open('/sandbox/big', 'wb').write(b'0' * (3 * 2**20))", read_only=False,
                 file_size=1 * MiB)
    assert result.verdict is Verdict.ERROR
    assert "File too large" in result.error


def test_open_files_cap(run):
    result = run("fs = []\nwhile True: fs.append(open('/dev/null'))", open_files=64)
    assert result.verdict is Verdict.ERROR
    assert "Too many open files" in result.error


def test_cpu_share_is_visible_in_stats(sandbox):
    samples = []
    run = sandbox.start("import time\nend = time.time() + 2.2\nwhile time.time() < end: pass", "python",
                        Limits(cpus=0.5))
    for event in run.events():
        if type(event).__name__ == "Stats" and event.cpu_percent is not None:
            samples.append(event.cpu_percent)
    assert len(samples) >= 6                       # at least once a second, here four times
    busy = sorted(samples)[len(samples) // 2]
    assert 30 <= busy <= 65, samples               # half a core, give or take scheduling


def test_runsc_refuses_network_on_when_registered_without_it(sandbox):
    if "--network=none" not in sandbox.info.runtimes.get("runsc", ["--network=none"]):
        pytest.fail("this test expects runsc registered with --network=none (scripts/docker-engine.sh)")
    with pytest.raises(RuntimeUnavailable, match="network"):
        sandbox.start("print(1)", "python", Limits(runtime="runsc", network=True))


@pytest.mark.parametrize("runtime", [name for name in RUNTIMES if name != "runc"])
def test_each_runtime_runs_and_holds_the_limits(run, sandbox, runtime):
    assert runtime in sandbox.info.runtimes, f"{runtime} is registered by scripts/docker-engine.sh"
    traits = traits_of(runtime)
    ok = run(PROBE, runtime=runtime)
    assert ok.verdict is Verdict.OK and ok.runtime == runtime
    seen = json.loads(ok.output)
    assert seen["uid"] == 10001 and int(seen["cap_eff"], 16) == 0 and seen["interfaces"] == ["lo"]
    assert seen["prctl_no_new_privs"] == 1
    if traits.seccomp_loaded:
        assert seen["seccomp"] == "2"          # filter mode: our profile
    assert run("while True: pass", runtime=runtime, timeout=1).verdict is Verdict.TIMEOUT
    oom = run("xs = []\nwhile True: xs.append(bytearray(10**6))", runtime=runtime)
    assert oom.verdict is Verdict.OOM
    forks = run("import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
                "            time.sleep(20); os._exit(0)\n        n += 1\nexcept OSError as e:\n"
                "    print(n, e.errno)", runtime=runtime, pids=16, memory=512 * MiB)
    assert forks.verdict is Verdict.OK, forks.kill_reason
    assert int(forks.output.split()[0]) <= 16
    # From the init's cgroup, or Docker's stats where the guest cannot read it (gVisor).
    assert ok.peak_memory_bytes
    # Network on: refused where the runtime is registered without networking, else it works.
    if traits.network_refusal(sandbox.info.runtimes[runtime]):
        with pytest.raises(RuntimeUnavailable, match="cannot run with the network on"):
            sandbox.start("print(1)", "python", Limits(runtime=runtime, network=True))
    else:
        assert "eth0" in probe(run, runtime=runtime, network=True)["interfaces"]


def test_an_unregistered_runtime_is_refused_naming_those_there_are(sandbox):
    with pytest.raises(LimitError) as refused:
        sandbox.start("print(1)", "python", Limits(runtime="kata"))
    assert refused.value.message.startswith("unknown runtime 'kata': the engine has ")
    for name in RUNTIMES:
        assert name in refused.value.message and name in refused.value.fix
