"""The engine's front door: connect to Docker, check a request, start runs.

    sandbox = Sandbox()                              # raises EngineUnavailable with the fix
    run = sandbox.start("print(1)", "python")       # a ContainerRun; nothing has run yet
    for event in run.events(): ...                   # blocking, from a thread worker
    run.cancel()                                     # from any thread

    async for event in sandbox.stream("print(1)", "python"): ...   # from asyncio
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import AsyncIterator

import docker
import docker.errors
from docker.types import Ulimit

from .container import LABEL, OWNER_LABEL, REMOVALS, ContainerRun, owner_label, process_start_ticks
from .errors import EngineUnavailable, RuntimeUnavailable, SourceError
from .events import Event, Finished, RunResult
from .images import image_ref
from .languages import Language, load_languages, resolve
from .limits import Limits

# gVisor's host pids cgroup does not see guest threads, yet its own threads count there:
# the guest's process count is held by a ulimit, and the host limit gets room for gVisor.
RUNSC_HOST_PIDS_EXTRA = 512
MAX_SOURCE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class EngineInfo:
    server_version: str
    cpus: int
    memory_bytes: int
    cgroup_version: str
    runtimes: dict[str, list[str]] = field(default_factory=dict)   # name -> runtimeArgs
    # What the kernel and engine can enforce: MemoryLimit, SwapLimit, PidsLimit, CpuCfsQuota.
    cgroup_features: dict[str, bool] = field(default_factory=dict)
    seccomp: bool = False

    def refuses(self, limits: Limits) -> str | None:
        """Why this engine cannot honour these limits, or None."""
        if limits.runtime not in self.runtimes:
            return (f"the {limits.runtime} runtime is not registered with this Docker engine "
                    f"(it has: {', '.join(sorted(self.runtimes))})")
        if limits.runtime == "runsc" and limits.network and "--network=none" in self.runtimes["runsc"]:
            return ("gVisor (runsc) is registered here with --network=none: it cannot run with the "
                    "network on")
        return None


def connect(timeout: int = 60):
    """A low-level Docker client, or EngineUnavailable saying what to do."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        # version="auto" asks the engine its API version: that is the reachability check.
        return docker.APIClient(**docker.utils.kwargs_from_env(), version="auto", timeout=timeout)
    except docker.errors.DockerException as exc:
        text = str(exc)
        if "Permission denied" in text or "PermissionError" in text:
            raise EngineUnavailable(f"not permitted to use the Docker engine at {host}",
                                    "add yourself to the docker group (then log in again), or run as root") from None
        if "No such file" in text or "FileNotFoundError" in text:
            raise EngineUnavailable(f"no Docker engine at {host}: it is not installed or not running",
                                    "start it (sudo systemctl start docker, or scripts/docker-engine.sh "
                                    "start), or install it: apt-get install docker.io") from None
        raise EngineUnavailable(f"the Docker engine at {host} does not answer: {text.splitlines()[0]}",
                                "check that dockerd is running and DOCKER_HOST is right") from None


class Sandbox:
    """One connection to the engine, shared by every run of one app or command."""

    def __init__(self, api=None, languages: dict[str, Language] | None = None, reap: bool = True) -> None:
        self.api = api or connect()
        self.languages = languages if languages is not None else load_languages()
        self.owner = owner_label()
        self._info: EngineInfo | None = None
        self._info_lock = threading.Lock()
        if reap:
            reap_stale_containers(self.api)

    @property
    def info(self) -> EngineInfo:
        with self._info_lock:
            if self._info is None:
                raw = self.api.info()
                self._info = EngineInfo(
                    server_version=raw.get("ServerVersion", "?"), cpus=int(raw.get("NCPU") or 1),
                    memory_bytes=int(raw.get("MemTotal") or 0),
                    cgroup_version=str(raw.get("CgroupVersion") or "1"),
                    runtimes={name: list((spec or {}).get("runtimeArgs") or [])
                              for name, spec in (raw.get("Runtimes") or {}).items()},
                    cgroup_features={key: bool(raw.get(key, True))
                                     for key in ("MemoryLimit", "SwapLimit", "PidsLimit", "CpuCfsQuota")},
                    seccomp=any("seccomp" in opt for opt in raw.get("SecurityOptions") or []))
            return self._info

    def check(self, limits: Limits) -> Limits:
        """Validate limits against this engine: raises LimitError or RuntimeUnavailable."""
        limits.validate(host_cpus=self.info.cpus)
        refusal = self.info.refuses(limits)
        if refusal:
            raise RuntimeUnavailable(refusal, "choose another runtime, or turn the network off")
        return limits

    def start(self, source: str | bytes, language: str | Language, limits: Limits | None = None,
              stdin: str | bytes | None = None) -> ContainerRun:
        """Check everything that can be checked before a container exists; return the run."""
        lang = language if isinstance(language, Language) else resolve(language, self.languages)
        limits = self.check(limits or Limits())
        code = source.encode("utf-8") if isinstance(source, str) else source
        if len(code) > MAX_SOURCE_BYTES:
            raise SourceError(f"the program is {len(code)} bytes; the most is {MAX_SOURCE_BYTES}")
        data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
        pids, extra = limits.pids, []
        if limits.runtime == "runsc":
            pids = limits.pids + RUNSC_HOST_PIDS_EXTRA
            extra = [Ulimit(name="nproc", soft=limits.pids, hard=limits.pids)]
        return ContainerRun(self.api, image=image_ref(lang.image), language=lang, source=code,
                            limits=limits, stdin=data, owner=self.owner, pids_for_runtime=pids,
                            extra_ulimits=extra)

    def run(self, source, language, limits: Limits | None = None, stdin=None) -> RunResult:
        """Run to the end and return the result (events are dropped)."""
        run = self.start(source, language, limits, stdin)
        for event in run.events():
            if isinstance(event, Finished):
                return event.result
        raise AssertionError("a run always ends with Finished")

    async def stream(self, source, language, limits: Limits | None = None,
                     stdin=None) -> AsyncIterator[Event]:
        """The same events for asyncio; cancelling the consuming task cancels the run."""
        run = self.start(source, language, limits, stdin)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        done = object()

        def pump() -> None:
            try:
                for event in run.events():
                    loop.call_soon_threadsafe(queue.put_nowait, event)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, done)

        thread = threading.Thread(target=pump, daemon=True, name="tui-sandbox-run")
        thread.start()
        try:
            while True:
                item = await queue.get()
                if item is done:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            run.cancel()
            await asyncio.to_thread(thread.join, 60)

    @staticmethod
    def wait_for_cleanup(timeout: float = 30) -> bool:
        """Block until every finished run's container is removed (also done at exit)."""
        return REMOVALS.wait(timeout)

    def close(self) -> None:
        REMOVALS.wait()
        self.api.close()


def reap_stale_containers(api) -> list[str]:
    """Remove our containers whose owning process is gone (it was SIGKILLed, or the
    machine rebooted). Containers of live owners, here or elsewhere, are left alone."""
    removed = []
    here = socket.gethostname()
    try:
        containers = api.containers(all=True, filters={"label": LABEL})
    except docker.errors.APIError:
        return removed
    for container in containers:
        owner = (container.get("Labels") or {}).get(OWNER_LABEL, "")
        host, _, rest = owner.partition(":")
        pid, _, ticks = rest.partition(":")
        if host != here or (pid.isdigit() and _alive(int(pid), ticks)):
            continue
        try:
            api.remove_container(container["Id"], v=True, force=True)
            removed.append(container["Id"])
        except docker.errors.APIError:
            pass
    return removed


def _alive(pid: int, ticks: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return ticks in ("?", process_start_ticks(pid))
