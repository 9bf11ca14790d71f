"""`tui-sandbox doctor`: one line per thing that must hold, each with its fix."""

from __future__ import annotations

from typing import Iterator

from runner import Sandbox, SandboxError
from runner import images


def doctor_lines() -> Iterator[tuple[bool, str]]:
    try:
        sandbox = Sandbox(reap=False)
        info = sandbox.info
    except SandboxError as exc:
        yield False, f"engine: {exc.message} (fix: {exc.fix})"
        return
    yield True, f"engine: Docker {info.server_version}, {info.cpus} CPUs, cgroup v{info.cgroup_version}"
    for key, what in (("MemoryLimit", "memory limits"), ("SwapLimit", "swap limits (no swap on top)"),
                      ("PidsLimit", "PID limits"), ("CpuCfsQuota", "CPU quotas")):
        ok = info.cgroup_features.get(key, True)
        yield ok, f"cgroup: {what} {'supported' if ok else 'NOT supported'}" + (
            "" if ok else " (fix: enable the cgroup controller in the kernel command line)")
    yield info.seccomp, "seccomp: Docker's default profile " + (
        "active" if info.seccomp else "missing (fix: use a kernel and Docker built with seccomp)")
    for name in ("runc", "runsc"):
        if name in info.runtimes:
            args = " ".join(info.runtimes[name])
            note = " (network-on runs are refused under it)" if "--network=none" in args else ""
            yield True, f"runtime: {name} registered{note}"
        elif name == "runsc":
            yield True, ("runtime: runsc (gVisor) not registered, optional (fix: apt-get install runsc, "
                         "add it to /etc/docker/daemon.json, reload dockerd)")
        else:
            yield False, "runtime: runc missing (fix: reinstall Docker)"
    for status in images.list_images(sandbox.api):
        if status.present:
            yield True, f"image: {status.ref} present"
        else:
            yield False, f"image: {status.ref} missing (fix: {images.build_command()})"
