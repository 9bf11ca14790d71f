"""`tui-sandbox doctor`: one line per thing that must hold, each with its fix."""

from __future__ import annotations

from typing import Iterator

from runner import Sandbox, SandboxError
from runner.backend import BUILD_IMAGES
from runner.runtimes import default_runtime, ordered, runtime

FEATURES = (("MemoryLimit", "memory limits"), ("SwapLimit", "swap limits (no swap on top)"),
            ("PidsLimit", "PID limits"), ("CpuCfsQuota", "CPU quotas"))


def doctor_lines() -> Iterator[tuple[bool, str]]:
    with Sandbox() as sandbox:
        try:
            info = sandbox.info
        except SandboxError as exc:
            yield False, f"engine: {exc.message} (fix: {exc.fix})"
            return
        yield True, f"engine: {info.name}, {info.cpus} CPUs, cgroup v{info.cgroup_version}"
        for key, what in FEATURES:
            ok = info.features.get(key, True)
            yield ok, f"cgroup: {what} {'supported' if ok else 'NOT supported'}" + (
                "" if ok else " (fix: enable the cgroup controller in the kernel command line)")
        if not info.seccomp:
            yield False, "seccomp: missing (fix: use a kernel and Docker built with seccomp)"
        else:
            try:
                yield True, f"seccomp: {sandbox.policy()}"
            except SandboxError as exc:
                yield False, f"seccomp: {exc.message} (fix: {exc.fix})"
        if "runc" not in info.runtimes:
            yield False, "runtime: runc missing (fix: reinstall Docker)"
        for name in ordered(info.runtimes):
            traits = runtime(name)
            yield True, f"runtime: {name} registered, {traits.description}; {traits.traits(info.runtimes[name])}"
        try:
            chosen = default_runtime(info.runtimes)
            yield True, (f"runtime by default: {chosen.name}: {chosen.why} (another runs only when named: "
                         "--runtime NAME)")
        except SandboxError as exc:
            yield False, f"runtime by default: {exc.message} (fix: {exc.fix})"
        for name in ("runsc", "crun"):
            if name not in info.runtimes:
                yield True, (f"runtime: {name} ({runtime(name).label}) not registered, optional (fix: "
                             f"apt-get install {name}, add it to /etc/docker/daemon.json, reload dockerd; "
                             "scripts/docker-engine.sh does all three)")
        for status in sandbox.images():
            if status.present:
                yield True, f"image: {status.ref} present"
            else:
                yield False, f"image: {status.ref} missing (fix: {BUILD_IMAGES})"
