"""tui-sandbox's seccomp profile: Docker's default, less what a learner's program never needs.

Docker's default profile is written for every kind of container; ours runs one untrusted
program. So the profile is Docker's own (shipped verbatim beside this file, from the engine
version we target) with the calls in DENIED taken out of every rule that allows them, plus the
three calls in NARROWED held to their harmless uses whatever capabilities a container has.
A denied call falls to the default action, which fails it with EPERM: the program sees a
clear "Operation not permitted", it is not killed.

    TUI_SANDBOX_SECCOMP unset            this profile
    TUI_SANDBOX_SECCOMP=/path/x.json     that file, as Docker's --security-opt seccomp=FILE reads it
    TUI_SANDBOX_SECCOMP=docker-default   Docker's built-in default (no seccomp= option at all)

`python -m runner.docker.seccomp > my.json` writes ours out, as a start for one's own.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import SandboxError

ENV_VAR = "TUI_SANDBOX_SECCOMP"
DOCKER_DEFAULT = "docker-default"
DOCKER_DEFAULT_FILE = Path(__file__).with_name("seccomp-docker-default.json")
EPERM = 1

# What we add over Docker's default. "Docker: ..." says what the default did with the call; a
# cap-only grant never applies to us (all capabilities are dropped) but is removed too, so the
# profile holds on its own even if a capability is ever added back. The languages' runtimes
# (Python 3.11, Node.js 18 with its libuv 1.44, bash, gcc) make none of these calls: checked
# with strace on threads, subprocesses, worker_threads, child_process and compiling.
DENIED: dict[str, str] = {
    # Debugging and reading other processes
    "ptrace": "inspect or steer another process; Docker allows it on kernels >= 4.8",
    "process_vm_readv": "read another process's memory (Docker: CAP_SYS_PTRACE only)",
    "process_vm_writev": "write another process's memory (Docker: CAP_SYS_PTRACE only)",
    "kcmp": "compare kernel objects of two processes, an ASLR probe (Docker: CAP_SYS_PTRACE only)",
    "pidfd_getfd": "steal a file descriptor from another process (Docker: CAP_SYS_PTRACE only)",
    "process_madvise": "advise on another process's memory (Docker: CAP_SYS_PTRACE only)",
    # Kernel attack surface that a learner's program has no use for
    "io_uring_setup": "io_uring: a large, often-exploited kernel surface; Docker allows it",
    "io_uring_enter": "io_uring, as above; Docker allows it",
    "io_uring_register": "io_uring, as above; Docker allows it",
    "userfaultfd": "stalls kernel page faults at will, a staple of kernel exploits (Docker: denied)",
    "perf_event_open": "performance counters, a side channel and exploit surface (Docker: CAP_SYS_ADMIN only)",
    "bpf": "load programs into the kernel (Docker: CAP_SYS_ADMIN only)",
    "keyctl": "the kernel keyrings are not namespaced (Docker: denied)",
    "add_key": "kernel keyrings, as above (Docker: denied)",
    "request_key": "kernel keyrings, as above (Docker: denied)",
    "lookup_dcookie": "kernel profiling support (Docker: CAP_SYS_ADMIN only)",
    "syslog": "read or clear the kernel's log (Docker: CAP_SYSLOG only)",
    "iopl": "raw I/O port access (Docker: CAP_SYS_RAWIO only)",
    "ioperm": "raw I/O port access (Docker: CAP_SYS_RAWIO only)",
    # Filesystems and namespaces: the container's view of the world is fixed
    "mount": "mount filesystems (Docker: CAP_SYS_ADMIN only)",
    "umount": "unmount, 32-bit x86 (Docker: CAP_SYS_ADMIN only)",
    "umount2": "unmount (Docker: CAP_SYS_ADMIN only)",
    "pivot_root": "swap the root filesystem (Docker: denied)",
    "chroot": "change the root directory (Docker: CAP_SYS_CHROOT only)",
    "fsopen": "the new mount API (Docker: CAP_SYS_ADMIN only)",
    "fsconfig": "the new mount API (Docker: CAP_SYS_ADMIN only)",
    "fsmount": "the new mount API (Docker: CAP_SYS_ADMIN only)",
    "fspick": "the new mount API (Docker: CAP_SYS_ADMIN only)",
    "move_mount": "the new mount API (Docker: CAP_SYS_ADMIN only)",
    "open_tree": "the new mount API (Docker: CAP_SYS_ADMIN only)",
    "mount_setattr": "the new mount API (Docker: CAP_SYS_ADMIN only)",
    "unshare": "new namespaces, user namespaces above all (Docker: CAP_SYS_ADMIN only)",
    "setns": "join another namespace (Docker: CAP_SYS_ADMIN only)",
    "name_to_handle_at": "file handles, which step around path checks (Docker: CAP_SYS_ADMIN only)",
    "open_by_handle_at": "the 'shocker' container escape (Docker: CAP_DAC_READ_SEARCH only)",
    "fanotify_init": "watch the whole filesystem (Docker: CAP_SYS_ADMIN only)",
    "quotactl": "disk quotas (Docker: CAP_SYS_ADMIN only)",
    "quotactl_fd": "disk quotas (Docker: CAP_SYS_ADMIN only)",
    "sethostname": "the hostname is ours to set (Docker: CAP_SYS_ADMIN only)",
    "setdomainname": "the domain name is ours to set (Docker: CAP_SYS_ADMIN only)",
    # The machine itself
    "kexec_load": "boot another kernel (Docker: denied)",
    "kexec_file_load": "boot another kernel (Docker: denied)",
    "init_module": "load a kernel module (Docker: CAP_SYS_MODULE only)",
    "finit_module": "load a kernel module (Docker: CAP_SYS_MODULE only)",
    "delete_module": "unload a kernel module (Docker: CAP_SYS_MODULE only)",
    "reboot": "reboot (Docker: CAP_SYS_BOOT only)",
    "acct": "process accounting to a file (Docker: CAP_SYS_PACCT only)",
    "swapon": "swap devices (Docker: denied)",
    "swapoff": "swap devices (Docker: denied)",
    "vhangup": "hang up the terminal (Docker: CAP_SYS_TTY_CONFIG only)",
    # Clocks: reading time stays allowed (clock_gettime, gettimeofday, time)
    "clock_settime": "set a clock (Docker: CAP_SYS_TIME only)",
    "clock_settime64": "set a clock, 32-bit (Docker: denied)",
    "settimeofday": "set the clock (Docker: CAP_SYS_TIME only)",
    "stime": "set the clock, 32-bit x86 (Docker: CAP_SYS_TIME only)",
    "adjtimex": "tune the system clock; a read-only query is useless here too. Docker allows it",
    "clock_adjtime": "tune a clock, as above; Docker allows it",
    "clock_adjtime64": "tune a clock, 32-bit, as above; Docker allows it",
}

# Of DENIED, the calls the sandbox's init refuses itself, where it can watch them (runner's
# runtimes: not gVisor), so that each refusal is seen as a wall (runner/walls.py): the init's
# own filter hands each such call to PID 1, which answers EPERM and counts it. For those
# runs this profile lets them through (an ERRNO here would take precedence and hide them);
# the init never starts a program it cannot watch, and with the init gone they fail ENOSYS.
# Every name must be one init.c knows (its KNOWN_CALLS: a test holds the two together).
WATCHED: tuple[str, ...] = (
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "ptrace", "process_vm_readv",
    "process_vm_writev", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "kexec_load", "init_module", "finit_module", "delete_module", "reboot", "sethostname", "settimeofday",
    "clock_settime",
)

# Narrowed by the init's filter instead of this profile when the init watches: clone with a
# namespace flag (the same mask as Docker's rule) is refused by the init, exactly as here,
# and reported as a wall. The init refuses it whether or not it could report it.
INIT_NARROWS: tuple[str, ...] = ("clone",)

# Calls that stay, held to what is harmless, for every container whatever its capabilities.
# (Docker's default lifts the first two limits when CAP_SYS_ADMIN is granted.)
NARROWED: dict[str, str] = {
    "clone": "only without namespace flags (Docker's mask): fork and threads, no new namespaces",
    # Seccomp cannot read clone3's flags (they sit in memory): ENOSYS, not EPERM, makes glibc
    # fall back to clone, whose flags it can check. Python's and Node's threads rely on that.
    "clone3": "answered ENOSYS, so glibc falls back to clone",
    # Docker allows five values; a learner's program needs none of them (32-bit uname, no
    # ASLR for its children). The query (0xffffffff) changes nothing, so it stays.
    "personality": "only the query personality(0xffffffff); no change of personality",
}
PERSONALITY_QUERY = 0xFFFFFFFF


def _docker_default() -> dict[str, Any]:
    profile: dict[str, Any] = json.loads(DOCKER_DEFAULT_FILE.read_text(encoding="utf-8"))
    profile.pop("comment", None)
    return profile


@functools.cache
def _ours(watched: bool = False) -> dict[str, Any]:
    """Ours; watched: less the refusals the init makes itself (WATCHED)."""
    denied = set(DENIED) - set(WATCHED) if watched else set(DENIED)
    profile = _docker_default()
    # Docker 20.10 fails unlisted calls with EPERM anyway; newer engines read this key.
    profile["defaultErrnoRet"] = EPERM
    rules = []
    for rule in profile["syscalls"]:
        names = [name for name in rule["names"] if name not in denied]
        if rule["includes"].get("caps"):
            # A capability's unconditional grant would undo the narrowing.
            names = [name for name in names if name not in NARROWED]
        if "personality" in names and rule.get("args") != [
                {"index": 0, "value": PERSONALITY_QUERY, "op": "SCMP_CMP_EQ"}]:
            names.remove("personality")
        if not names:
            continue
        if set(names) <= set(NARROWED):
            rule["excludes"].pop("caps", None)    # narrowed for every container
        rules.append({**rule, "names": names})
    if watched:
        # Docker's default lets most of these through only with a capability we never
        # grant: allowed here, so that they reach the init's filter, which refuses them.
        rules.append({"names": list(WATCHED), "action": "SCMP_ACT_ALLOW", "args": [], "includes": {},
                      "excludes": {}, "comment": "refused by the sandbox's init, which reports each as a wall"})
        rules.append({"names": list(INIT_NARROWS), "action": "SCMP_ACT_ALLOW", "args": [], "includes": {},
                      "excludes": {}, "comment": "narrowed by the sandbox's init, which reports each refusal"})
    profile["syscalls"] = rules
    # The host's own system-call ABI only: Docker's default also allows each call through
    # the 32-bit and x32 tables of an x86-64 host (32-bit ARM's on arm64), whose entry
    # points are a kernel surface of their own (x32's recvmmsg was CVE-2014-0038) that no
    # runner image uses, its compilers included. The runtime compiles the filter once per
    # ABI per container: crun's CPU per run went from 36 to 26 ms (bench/service.py).
    # A call through another ABI meets the filter's bad-arch action: the thread is killed.
    for arch in profile.get("archMap") or []:
        arch["subArchitectures"] = []
    return profile


def profile() -> dict[str, Any]:
    """tui-sandbox's profile, as the JSON object Docker reads."""
    return copy.deepcopy(_ours())


def _choice(choice: str | os.PathLike[str] | None) -> str | None:
    if choice is None:
        choice = os.environ.get(ENV_VAR) or None
    return os.fspath(choice) if choice is not None else None


def _load_custom(path: str) -> dict[str, Any]:
    fix = (f"point {ENV_VAR} at a readable seccomp profile (JSON, as for docker run "
           f"--security-opt seccomp=FILE), set it to {DOCKER_DEFAULT}, or unset it for ours")
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SandboxError(f"cannot read the seccomp profile {path}: {reason}", fix) from None
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SandboxError(f"the seccomp profile {path} is not valid JSON: {exc}", fix) from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("defaultAction"), str) or not (
            isinstance(loaded.get("syscalls", []), list)):
        raise SandboxError(f"the seccomp profile {path} is not a seccomp profile (it needs a "
                           "\"defaultAction\", and \"syscalls\" must be a list)", fix)
    return loaded


def security_option(choice: str | os.PathLike[str] | None = None, *, init_watches: bool = False) -> str | None:
    """The "seccomp=<json>" entry for HostConfig.SecurityOpt, or None for Docker's built-in
    default. Docker's API takes the profile's content there, not a path. `choice` is a path
    or "docker-default"; None means TUI_SANDBOX_SECCOMP, or else ours. init_watches: the
    init refuses WATCHED itself (see watched_calls), so ours lets them reach it. A custom
    profile that cannot be read or parsed raises SandboxError, with the fix."""
    chosen = _choice(choice)
    if chosen == DOCKER_DEFAULT:
        return None
    loaded = _ours(init_watches) if chosen is None else _load_custom(chosen)
    return "seccomp=" + json.dumps(loaded, separators=(",", ":"))


def watched_calls(choice: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """The calls the init may watch under this choice of profile: WATCHED with ours; none
    with another, whose own answers stand as its author wrote them."""
    return WATCHED if _choice(choice) is None else ()


def describe(choice: str | os.PathLike[str] | None = None) -> str:
    """One line for `doctor`: which profile the runs get (same `choice` as security_option)."""
    chosen = _choice(choice)
    if chosen == DOCKER_DEFAULT:
        return f"Docker's built-in default profile ({ENV_VAR}={DOCKER_DEFAULT})"
    if chosen is not None:
        _load_custom(chosen)
        return f"custom profile {chosen} ({ENV_VAR})"
    return (f"tui-sandbox's own profile: Docker's default with {len(DENIED)} calls denied outright "
            "(ptrace, io_uring, bpf, mount, namespaces, kexec, modules, clock setters, ...): EPERM; "
            "the host's own ABI only (no 32-bit or x32 calls)")


if __name__ == "__main__":
    json.dump(profile(), sys.stdout, indent=2)
    sys.stdout.write("\n")
