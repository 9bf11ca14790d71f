"""The runtimes this server offers Piston's clients: every language the engine has, under
its name and aliases, each with its image's own version, asked of the image once (its
version_probe: a probe run, not queued and not in the history) and kept, with the version
its entry names as a fallback when the engine cannot answer (or it has no probe).

    catalog = catalog_for(request, service)
    await catalog.runtimes()      # [("python", "3.11.2"), ...]
    catalog.find("py3")           # "python"
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time

from fastapi import Request

from runner import Limits, SandboxError, Verdict
from runner.languages import Language, aliases

from ..interface import Service

log = logging.getLogger("tui_sandbox.service.piston")

# How long a failed version probe is trusted before the image is asked again.
PROBE_RETRY_S = 30.0
# Piston's clients want a version: for a language whose entry names none and cannot be asked.
UNKNOWN_VERSION = "0.0.0"


class Catalog:
    """The languages this server has, each with its image's own version, asked once (a
    probe run, not queued and not in the history) and kept."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._versions: dict[str, str] = {}
        self._failed_at: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def names(self) -> list[str]:
        return list(self.service.sandbox.languages)

    def language(self, name: str) -> Language:
        return self.service.sandbox.languages[name]

    async def runtimes(self) -> list[tuple[str, str]]:
        names = self.names()
        async with self._lock:
            due = [name for name in names if name not in self._versions and self.language(name).version_probe
                   and time.monotonic() - self._failed_at.get(name, -math.inf) > PROBE_RETRY_S]
            if due:
                found = await asyncio.gather(*(asyncio.to_thread(self._probe, name) for name in due))
                for name, version in zip(due, found, strict=True):
                    if version:
                        self._versions[name] = version
                    else:
                        self._failed_at[name] = time.monotonic()
        return [(name, self._versions.get(name, self.language(name).version or UNKNOWN_VERSION)) for name in names]

    def _probe(self, name: str) -> str | None:
        try:
            result = self.service.sandbox.run(self.language(name).version_probe, name, Limits(timeout=20))
        except SandboxError as exc:
            log.warning("could not ask the %s image its version: %s", name, exc.message)
            return None
        version = result.output.strip()
        if result.verdict is Verdict.OK and re.fullmatch(r"\d+\.\d+\.\d+", version):
            return version
        log.warning("the %s image's version probe said %r (%s)", name, version, result.kill_reason)
        return None

    def find(self, language: str) -> str | None:
        """Our language for a Piston name or alias, any case."""
        key = language.strip().lower()
        table = self.service.sandbox.languages
        return key if key in table else aliases(table).get(key)


def catalog_for(request: Request, service: Service) -> Catalog:
    """The catalog kept in the app's state, one per service: a new service asks its images anew."""
    catalog = getattr(request.app.state, "piston_catalog", None)
    if catalog is None or catalog.service is not service:
        catalog = request.app.state.piston_catalog = Catalog(service)
    return catalog
