"""tui-sandbox's seccomp profile: what it denies fails with EPERM from inside under runc
(and crun, and every runtime that loads it),
what the languages need still works, and the override is clear when it is wrong.

Under gVisor (runsc) as scripts/docker-engine.sh registers it, the OCI profile is not loaded
at all (gVisor would need --oci-seccomp): the program's calls reach gVisor's own kernel, never
the host's, and gVisor answers them itself: EPERM, ENOSYS, EOPNOTSUPP, EACCES or EINVAL,
and it even allows ptrace and a user namespace inside its sandbox. Measured with this
Debian's runsc 20221219, --oci-seccomp would load the profile but answer clone3 with EPERM
instead of its ENOSYS, so glibc's pthread_create fails: the runsc test below would catch that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner import Limits, Sandbox, SandboxError, Verdict
from runner.docker import seccomp
from runner.limits import MiB

from .runtimes import SECCOMP_LOADED

ROOT = Path(__file__).resolve().parents[2]

# Arguments that fail harmlessly (EFAULT, EBADF, EINVAL...) where a call is allowed, so that
# EPERM can only be the filter's answer for most of them. A few (reboot, acct, swapon,
# sethostname...) would get EPERM from the kernel's own capability check anyway.
PROBES: dict[str, str] = {
    "ptrace": "2 /* PTRACE_PEEKDATA */, getpid(), 0, 0",
    "process_vm_readv": "getpid(), 0, 0, 0, 0, BAD",
    "process_vm_writev": "getpid(), 0, 0, 0, 0, BAD",
    "kcmp": "getpid(), getpid(), BAD, 0, 0",
    "pidfd_getfd": "BAD, 0, 0",
    "process_madvise": "BAD, 0, 0, 0, 0",
    "io_uring_setup": "1, 0",
    "io_uring_enter": "BAD, 0, 0, 0, 0, 0",
    "io_uring_register": "BAD, 0, 0, 0",
    "userfaultfd": "BAD",
    "perf_event_open": "0, 0, BAD, BAD, 0",
    "bpf": "BAD, 0, 0",
    "keyctl": "BAD, 0, 0, 0, 0",
    "add_key": "0, 0, 0, 0, 0",
    "request_key": "0, 0, 0, 0",
    "lookup_dcookie": "0, 0, 0",
    "syslog": "BAD, 0, 0",
    "iopl": "0",
    "ioperm": "0, 0, 0",
    "mount": "0, 0, 0, 0, 0",
    "umount2": "\"/\", BAD",
    "pivot_root": "0, 0",
    "chroot": "0",
    "fsopen": "0, BAD",
    "fsconfig": "BAD, BAD, 0, 0, 0",
    "fsmount": "BAD, BAD, 0",
    "fspick": "BAD, 0, BAD",
    "move_mount": "BAD, 0, BAD, 0, BAD",
    "open_tree": "BAD, 0, BAD",
    "mount_setattr": "BAD, 0, BAD, 0, 0",
    "unshare": "BAD",
    "setns": "BAD, 0",
    "name_to_handle_at": "BAD, 0, 0, 0, BAD",
    "open_by_handle_at": "BAD, 0, 0",
    "fanotify_init": "BAD, 0",
    "quotactl": "0, 0, 0, 0",
    "quotactl_fd": "BAD, 0, 0, 0",
    "sethostname": "0, BAD",
    "setdomainname": "0, BAD",
    "kexec_load": "0, 0, 0, BAD",
    "kexec_file_load": "BAD, BAD, 0, 0, BAD",
    "init_module": "0, 0, 0",
    "finit_module": "BAD, 0, BAD",
    "delete_module": "0, BAD",
    "reboot": "0, 0, 0, 0",
    "acct": "0",
    "swapon": "0, 0",
    "swapoff": "0",
    "vhangup": "0",
    "clock_settime": "0, 1",
    "settimeofday": "1, 0",
    "adjtimex": "0",
    "clock_adjtime": "0, 0",
}
# Denied too, but x86-64 has no such call: only a 32-bit program could make it.
X86_32_ONLY = {"umount", "stime", "clock_settime64", "clock_adjtime64"}

PROBE_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BAD ((long)-1)

static void report(const char *name, long rc) {
    printf("%s %s\n", name, rc == -1 ? strerrorname_np(errno) : "OK");
    fflush(stdout);
}

static long clone_and_reap(unsigned long flags) {
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(pid, 0, 0);
    return pid > 0 ? 0 : pid;
}

int main(void) {
CALLS
    report("personality(ADDR_NO_RANDOMIZE)", syscall(SYS_personality, 0x0040000));
    report("personality(PER_LINUX32)", syscall(SYS_personality, 0x0008));
    report("personality(PER_LINUX)", syscall(SYS_personality, 0));
    report("personality(query)", syscall(SYS_personality, 0xffffffffUL));
    report("clone(CLONE_NEWUSER)", clone_and_reap(CLONE_NEWUSER));
    report("clone(CLONE_NEWNET)", clone_and_reap(CLONE_NEWNET));
    report("clone(fork)", clone_and_reap(0));
    report("clone3", syscall(SYS_clone3, 0, 0));
    return 0;
}
"""


def probe_source() -> str:
    calls = "\n".join(f'    report("{name}", syscall(SYS_{name}, {args}));' for name, args in PROBES.items())
    return PROBE_C.replace("CALLS", calls)


def probe(run, **limits) -> dict[str, str]:
    result = run(probe_source(), "c", **limits)
    assert result.verdict is Verdict.OK, (result.verdict, result.error)
    return dict(line.split(" ", 1) for line in result.output.splitlines())


def test_the_probe_covers_every_denied_call():
    assert set(PROBES) == set(seccomp.DENIED) - X86_32_ONLY


@pytest.mark.parametrize("runtime", SECCOMP_LOADED)
def test_every_denied_call_fails_with_eperm_where_the_profile_is_loaded(run, runtime):
    seen = probe(run, runtime=runtime)
    assert {name: seen[name] for name in PROBES} == {name: "EPERM" for name in PROBES}
    assert seen["personality(ADDR_NO_RANDOMIZE)"] == "EPERM"
    assert seen["personality(PER_LINUX32)"] == "EPERM"       # Docker's default allows it
    assert seen["personality(PER_LINUX)"] == "EPERM"         # Docker's default allows it
    assert seen["personality(query)"] == "OK"
    assert seen["clone(CLONE_NEWUSER)"] == "EPERM"
    assert seen["clone(CLONE_NEWNET)"] == "EPERM"
    assert seen["clone(fork)"] == "OK"
    assert seen["clone3"] == "ENOSYS"                         # glibc then falls back to clone


def test_under_gvisor_the_calls_still_fail_but_gvisor_answers_them(run, sandbox):
    if "runsc" not in sandbox.info.runtimes:
        pytest.fail("this engine has no gVisor (runsc) runtime: the test machine should have it")
    seen = probe(run, runtime="runsc")
    # gVisor's own kernel answers (the profile is not loaded): none of them succeeds,
    # though ptrace (ESRCH here) and user namespaces are implemented inside its sandbox.
    assert all(seen[name] != "OK" for name in PROBES), seen
    for name in ("mount", "umount2", "kexec_load", "init_module", "clock_settime", "settimeofday",
                 "adjtimex", "reboot"):
        assert seen[name] == "EPERM", (name, seen[name])
    # Threads need clone3's ENOSYS: with --oci-seccomp this runsc turns it into EPERM.
    assert seen["clone3"] == "ENOSYS"
    assert seen["clone(fork)"] == "OK"


PYTHON_NEEDS = r"""
import concurrent.futures, multiprocessing, os, subprocess, sys, threading

def child(conn):
    conn.send(os.getpid())
    conn.close()

if __name__ == "__main__":
    seen = []
    thread = threading.Thread(target=seen.append, args=("thread",))
    thread.start(); thread.join()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        seen.append(sum(pool.map(abs, range(-4, 0))))
    seen.append(subprocess.run(["echo", "subprocess"], capture_output=True, text=True, check=True).stdout.strip())
    seen.append(subprocess.run([sys.executable, "-c", "print('python child')"], capture_output=True,
                               text=True, check=True).stdout.strip())
    # Only fork: spawn and forkserver re-open the main script by its path, and in the
    # sandbox that is a link to fd 3, which a spawned child does not inherit (with or
    # without seccomp). Pool needs /dev/shm for its semaphores, and runs have none.
    mine, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(target=child, args=(theirs,))
    process.start()
    seen.append(mine.recv() != os.getpid())
    process.join()
    seen.append(process.exitcode)
    print(seen)
"""


def test_python_threads_subprocess_and_multiprocessing_work(run):
    result = run(PYTHON_NEEDS, memory=256 * MiB)
    assert result.verdict is Verdict.OK, result.error
    assert result.output.strip() == str(["thread", 10, "subprocess", "python child", True, 0])


NODE_NEEDS = r"""
const { Worker } = require('worker_threads');
const childProcess = require('child_process');
const worker = new Worker("require('worker_threads').parentPort.postMessage(6 * 7)", { eval: true });
worker.on('message', (answer) => {
  console.log('worker', answer);
  console.log('execSync', childProcess.execSync('echo hi').toString().trim());
  const child = childProcess.spawn(process.execPath, ['-e', 'console.log("node child")']);
  child.stdout.on('data', (data) => process.stdout.write('spawn ' + data));
  child.on('exit', (code) => {
    console.log('exit', code);
    require('crypto').pbkdf2('a', 'b', 1000, 32, 'sha256', (err, key) => console.log('libuv pool', key.length));
  });
});
"""


def test_node_worker_threads_and_child_process_work(run):
    result = run(NODE_NEEDS, "javascript", memory=256 * MiB)
    assert result.verdict is Verdict.OK, result.error
    assert result.output.splitlines() == ["worker 42", "execSync hi", "spawn node child", "exit 0",
                                          "libuv pool 32"]


def test_c_threads_and_fork_work(run):
    source = r"""
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
static void *twice(void *n) { return (void *)(2 * (long)n); }
int main(void) {
    pthread_t threads[4];
    long sum = 0;
    for (long i = 0; i < 4; i++) pthread_create(&threads[i], 0, twice, (void *)i);
    for (int i = 0; i < 4; i++) { void *r; pthread_join(threads[i], &r); sum += (long)r; }
    pid_t pid = fork();
    if (pid == 0) _exit(7);
    int status;
    waitpid(pid, &status, 0);
    printf("%ld %d\n", sum, WEXITSTATUS(status));
    return 0;
}
"""
    result = run(source, "c")
    assert result.verdict is Verdict.OK, result.error
    assert result.output == "12 7\n"


def test_bash_pipelines_subshells_and_jobs_work(run):
    result = run("x=$(echo sub | tr a-z A-Z); echo $x\n( sleep 0.1; echo job ) & wait\n"
                 "seq 3 | while read i; do printf %s $i; done; echo\n", "bash")
    assert result.verdict is Verdict.OK, result.error
    assert result.output == "SUB\njob\n123\n"


# The override, from a fresh engine: a backend reads TUI_SANDBOX_SECCOMP once, at its first run.

def run_with_override(monkeypatch, value: str, source: str, language: str = "python"):
    monkeypatch.setenv(seccomp.ENV_VAR, value)
    with Sandbox() as box:
        return box.run(source, language, Limits())


def test_docker_default_override_uses_dockers_own_profile(monkeypatch):
    result = run_with_override(monkeypatch, "docker-default", probe_source(), "c")
    assert result.verdict is Verdict.OK, result.error
    seen = dict(line.split(" ", 1) for line in result.output.splitlines())
    # What Docker's default allows and ours does not.
    assert seen["io_uring_setup"] == "EFAULT" and seen["ptrace"] == "ESRCH"
    assert seen["personality(PER_LINUX32)"] == "OK"


def test_a_custom_profile_file_is_used(monkeypatch, tmp_path):
    custom = seccomp.profile()
    custom["syscalls"][0]["names"].remove("uname")
    path = tmp_path / "no-uname.json"
    path.write_text(json.dumps(custom))
    result = run_with_override(monkeypatch, str(path), "import os\ntry:\n    os.uname()\n"
                               "except OSError as exc:\n    print(exc.errno)\n")
    assert result.verdict is Verdict.OK, result.error
    assert result.output == "1\n"


@pytest.mark.parametrize("content", [None, "{not json", '["a list"]', '{"syscalls": []}'])
def test_a_bad_custom_profile_is_a_clear_error(monkeypatch, tmp_path, content):
    path = tmp_path / "profile.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SandboxError) as caught:
        run_with_override(monkeypatch, str(path), "print(1)")
    assert str(path) in caught.value.message
    assert seccomp.ENV_VAR in caught.value.fix and "docker-default" in caught.value.fix


def test_the_command_line_reports_a_bad_profile_without_a_traceback(tmp_path):
    missing = tmp_path / "missing.json"
    done = subprocess.run([sys.executable, "-m", "tui_sandbox", "run", "-", "-l", "python", "--json"],
                          input=b"print(1)", capture_output=True, cwd=ROOT, timeout=60,
                          env={**os.environ, seccomp.ENV_VAR: str(missing)})
    assert done.returncode == 125, done.stderr
    answer = json.loads(done.stdout)
    assert answer["verdict"] == "engine_error" and str(missing) in answer["message"]
    assert seccomp.ENV_VAR in answer["fix"]
    assert b"Traceback" not in done.stderr


# The profile itself, no engine needed.

# getpid through the 32-bit x86 table (int 0x80, eax = 20), from a 64-bit program.
I386_GETPID = """#include <stdio.h>
int main(void) {
    long ret;
    __asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
    printf("i386 getpid: %ld\\n", ret);
    return 0;
}
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the 32-bit x86 table exists on x86-64 hosts only")
@pytest.mark.parametrize("runtime", SECCOMP_LOADED)
def test_a_call_through_the_32_bit_table_is_refused_where_the_profile_is_loaded(run, runtime):
    """Docker's default allows each call through the 32-bit and x32 tables too; ours holds
    the program to the host's own ABI, so the kernel kills the thread that tries."""
    result = run(I386_GETPID, "c", runtime=runtime)
    assert result.verdict is Verdict.SIGNAL and result.signal == "SIGSYS", result
    assert "i386 getpid" not in result.output


def allowed(profile: dict) -> set[str]:
    return {name for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" for name in rule["names"]}


def test_the_profile_is_dockers_default_less_the_denied_calls():
    ours, docker = seccomp.profile(), seccomp._docker_default()
    assert ours["defaultAction"] == "SCMP_ACT_ERRNO" and ours["defaultErrnoRet"] == 1
    assert allowed(ours) <= allowed(docker)
    assert not allowed(ours) & set(seccomp.DENIED)
    assert allowed(docker) - allowed(ours) - set(seccomp.DENIED) == {"clone3"}   # was CAP_SYS_ADMIN's
    for rule in ours["syscalls"]:
        if set(rule["names"]) & set(seccomp.NARROWED):
            assert not rule["includes"].get("caps") and not rule["excludes"].get("caps"), rule
    personality = [rule for rule in ours["syscalls"] if "personality" in rule["names"]]
    assert [rule["args"] for rule in personality] == [[{"index": 0, "value": 0xFFFFFFFF, "op": "SCMP_CMP_EQ"}]]
    clone3 = [rule for rule in ours["syscalls"] if "clone3" in rule["names"]]
    assert [(rule["action"], rule["errnoRet"]) for rule in clone3] == [("SCMP_ACT_ERRNO", 38)]
    # The host's own ABI only: no 32-bit or x32 table beside it.
    assert ours["archMap"] and all(arch["subArchitectures"] == [] for arch in ours["archMap"])
    assert [arch["architecture"] for arch in ours["archMap"]] == [arch["architecture"] for arch in docker["archMap"]]


def test_security_option_and_describe(monkeypatch, tmp_path):
    monkeypatch.delenv(seccomp.ENV_VAR, raising=False)
    option = seccomp.security_option()
    assert option == "seccomp=" + json.dumps(seccomp.profile(), separators=(",", ":"))
    assert seccomp.describe().startswith("tui-sandbox's own profile: Docker's default with ")
    monkeypatch.setenv(seccomp.ENV_VAR, "docker-default")
    assert seccomp.security_option() is None
    assert "Docker's built-in default" in seccomp.describe()
    path = tmp_path / "mine.json"
    path.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}')
    monkeypatch.setenv(seccomp.ENV_VAR, str(path))
    assert seccomp.security_option() == 'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}'
    assert seccomp.describe() == f"custom profile {path} ({seccomp.ENV_VAR})"
