"""The Docker backend: connects when first needed, knows what the engine can do, makes
each run's container (from a warm spare when one matches), and cleans up after itself."""

from __future__ import annotations

import threading
from typing import Any

from ..backend import EngineInfo, ImageStatus, Progress
from ..errors import RuntimeUnavailable
from ..languages import Language
from ..limits import Limits
from ..protocol import NETWORK_WATCH_SYSCTLS, SPARE_IDLE_S, init_command
from ..runtimes import runtime
from ..units import MiB
from . import images as runner_images
from . import seccomp
from .cleanup import Removals, owner_label, reap_stale_containers
from .client import EngineClient, engine_host
from .container import DockerContainer
from .images import image_ref
from .seccomp import security_option, watched_calls
from .spares import SparePool

__all__ = ["DockerBackend", "EngineClient", "connect", "engine_host", "engine_info"]

# Docker refuses a memory limit below this.
MIN_MEMORY = 6 * MiB


def connect(timeout: float = 60) -> EngineClient:
    """A client of the engine DOCKER_HOST names, or EngineUnavailable saying what to do:
    one ping (a millisecond on the local socket) checks it answers."""
    client = EngineClient(timeout=timeout)
    client.ping()
    return client


def engine_info(raw: dict[str, Any]) -> EngineInfo:
    """EngineInfo from Docker's /info answer."""
    return EngineInfo(
        product="Docker", name=f"Docker {raw.get('ServerVersion', '?')}",
        cpus=int(raw.get("NCPU") or 1), memory_bytes=int(raw.get("MemTotal") or 0),
        min_memory_bytes=MIN_MEMORY,
        # Docker 20.10 also lists containerd's shim names for its own runc until its first
        # reload: runc again under another name, so they are not offered.
        runtimes={name: list((spec or {}).get("runtimeArgs") or [])
                  for name, spec in (raw.get("Runtimes") or {}).items() if not name.startswith("io.containerd.")},
        cgroup_version=str(raw.get("CgroupVersion") or "1"),
        features={key: bool(raw.get(key, True))
                  for key in ("MemoryLimit", "SwapLimit", "PidsLimit", "CpuCfsQuota")},
        seccomp="seccomp" if any("seccomp" in opt for opt in raw.get("SecurityOptions") or []) else "")


class DockerBackend:
    def __init__(self, api: EngineClient | None = None, *, spares_per_kind: int = 1, warm_kinds: int = 1,
                 spares_in_all: int | None = None, spare_idle_s: float = SPARE_IDLE_S) -> None:
        self.api = api or connect()
        self.owner = owner_label()
        self.removals = Removals(self.api)
        self._info: EngineInfo | None = None
        self._info_lock = threading.Lock()
        self._seccomp: dict[bool, str] = {}        # by whether the init watches the policy's calls
        self.spare_idle_s = spare_idle_s
        self.spares = SparePool(self._new_container, per_kind=spares_per_kind, kinds=warm_kinds,
                                max_age_s=spare_idle_s * 0.75, total=spares_in_all)
        # Containers of dead owners go, but never on a run's critical path: the reaper's
        # listing starts once this process's first container is made, not before it.
        self._reaper = threading.Thread(target=reap_stale_containers, args=(self.api,), daemon=True,
                                        name="tui-sandbox-reap")
        self._reaper_lock = threading.Lock()

    def info(self) -> EngineInfo:
        with self._info_lock:
            if self._info is None:
                self._info = engine_info(self.api.info())
            return self._info

    def known_info(self) -> EngineInfo | None:
        return self._info

    def check(self, limits: Limits) -> None:
        if self.api.unreachable:
            # The last call found no engine: ask it again (EngineUnavailable if it is
            # still away) rather than take a run that cannot be carried out.
            self.api.ping()
        info = self.info()
        limits.validate(info)
        refusal = runtime(limits.runtime).network_refusal(info.runtimes[limits.runtime]) if limits.network else None
        if refusal:
            raise RuntimeUnavailable(refusal, "choose another runtime, or turn the network off")

    def container(self, language: Language, limits: Limits) -> DockerContainer:
        return self.spares.take((language, limits)) or self._new_container((language, limits))

    def _reap_once(self) -> None:
        with self._reaper_lock:
            if self._reaper.ident is None:
                self._reaper.start()

    def warm(self, language: Language, limits: Limits) -> None:
        self.spares.want((language, limits))

    def _new_container(self, kind: tuple[Language, Limits]) -> DockerContainer:
        language, limits = kind
        traits = runtime(limits.runtime)
        # The init sets every limit on the program itself where the runtime lets it; else
        # Docker sets the message-queue limit (/dev/mqueue stays writable otherwise).
        ulimits: list[dict[str, int | str]] = (
            [] if traits.init_sets_msgqueue else [{"Name": "msgqueue", "Soft": 0, "Hard": 0}])
        # The init's watchers are part of our seccomp policy: with a profile of your own
        # (or under gVisor, which has no listener) the walls are not watched.
        watch = watched_calls() if traits.init_watches_calls else ()
        watching = bool(watch)
        watch_network = watching and not limits.network
        if watching not in self._seccomp:    # a bad custom profile raises, every time
            self._seccomp[watching] = security_option(init_watches=watching) or ""
        container = DockerContainer(
            self.api, self.removals, image=image_ref(language), language=language, limits=limits,
            command=init_command(language, limits, process_limit=traits.guest_process_limit,
                                 idle_s=self.spare_idle_s, watch=watch, watch_network=watch_network,
                                 watch_files=watching),
            owner=self.owner, host_pids=traits.host_pids(limits.pids), ulimits=ulimits,
            sysctls=NETWORK_WATCH_SYSCTLS if watch_network else None,
            seccomp=self._seccomp[watching] or None)
        self._reap_once()
        return container

    def wait_for_cleanup(self, timeout: float = 30) -> bool:
        return self.removals.wait(timeout)

    def images(self, languages: dict[str, Language]) -> list[ImageStatus]:
        return runner_images.list_images(self.api, languages)

    def build_images(self, languages: dict[str, Language], offline: bool, progress: Progress) -> list[str]:
        return runner_images.build_images(self.api, offline=offline, progress=progress, languages=languages)

    def reap_stale(self) -> list[str]:
        return reap_stale_containers(self.api)

    def policy(self) -> str:
        return seccomp.describe()

    def close(self) -> None:
        self.spares.close()
        # What Docker removes by itself needs nobody to wait for it. With the engine away,
        # what is left carries our label: the next process's reaper removes it.
        self.removals.wait(3 if self.api.unreachable else 30, auto_removed=False)
        if self._reaper.ident is not None:
            self._reaper.join(5)
        self.api.close()
