"""The cluster as an engine, for the parts of the HTTP front that ask the engine itself
(the languages, /health's engine, the Piston catalog's version probes): its facts are
the workers' own (each says its runtimes and cap in the broker), and its runs go
through the cluster's queue like any other."""

from __future__ import annotations

import asyncio

from runner import EngineInfo, EngineUnavailable, Language, Limits, RuntimeUnavailable
from runner.languages import load_languages, resolve
from runner.runtimes import AUTO

from ..service.requests import RunRequest
from .outage import describe


class ClusterEngine:
    def __init__(self, service) -> None:
        self._service = service
        self._languages: dict[str, Language] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def backend(self) -> "ClusterEngine":
        return self                  # no Docker API here: the images are each worker's

    @property
    def languages(self) -> dict[str, Language]:
        if self._languages is None:
            self._languages = load_languages()
        return self._languages

    def language(self, language: str | Language) -> Language:
        return language if isinstance(language, Language) else resolve(language, self.languages)

    @property
    def info(self) -> EngineInfo:
        if self._service.outage.since is not None:          # what the workers said last is stale
            raise EngineUnavailable(describe(self._service.broker_url), "no run can be queued until it is back: "
                                    "restart redis-server there (the fronts and workers reconnect by themselves)")
        up = [w for w in self._service.workers.values() if w["up"]]
        if not up:
            raise EngineUnavailable(f"no worker is up behind the broker at {self._service.broker_url}",
                                    "start one on a Docker host: tui-sandbox worker --broker URL")
        runtimes = sorted({name for worker in up for name in worker.get("runtimes") or ["runc"]})
        return EngineInfo(product="tui-sandbox cluster", name=f"{len(up)} worker(s): "
                          + ", ".join(w["name"] for w in up), cpus=sum(w["cap"] for w in up), memory_bytes=0,
                          runtimes={name: [] for name in runtimes}, seccomp="each worker's")

    def check(self, limits: Limits) -> Limits:
        """A runtime no worker offers is refused; with no worker up, the run waits for one.
        A run that names none stays so: the worker that takes it runs it under its own
        default (each worker has its own engine), so here it needs one that has a default."""
        up = [w for w in self._service.workers.values() if w["up"]]
        offered = {name for worker in up for name in worker.get("runtimes") or ["runc"]}
        if up and limits.runtime == AUTO:
            if not any(worker.get("default_runtime") for worker in up):
                raise RuntimeUnavailable(f"no worker has a runtime as isolated as runc to run by default (they "
                                         f"offer {', '.join(sorted(offered))})",
                                         f"ask for one of those by name (runtime: {min(offered)})")
        elif up and limits.runtime not in offered:
            raise RuntimeUnavailable(f"no worker offers the {limits.runtime} runtime (they offer "
                                     f"{', '.join(sorted(offered))})", "ask for one of those")
        return limits

    def warm(self, language, limits=None) -> None:
        """Each worker keeps its own spares."""

    def run(self, source, language, limits: Limits | None = None, stdin=None):
        """A run through the cluster, to its end, from a thread other than the loop's."""
        loop = self._loop
        assert loop is not None, "the front has not started"
        name = language.name if isinstance(language, Language) else language
        request = RunRequest(source=source, language=name, limits=limits or Limits(), stdin=stdin,
                             user="tui-sandbox", origin="probe")
        job = asyncio.run_coroutine_threadsafe(self._service.submit(request), loop).result(30)
        return asyncio.run_coroutine_threadsafe(job.wait(), loop).result(120)

    def wait_for_cleanup(self, timeout: float = 30) -> bool:
        return True

    def close(self) -> None:
        pass

    def images(self) -> list:
        """None to list: the images are on the workers' hosts, each of which checks its own."""
        return []
