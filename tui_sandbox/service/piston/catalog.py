"""The runtimes this server offers Piston's clients: our built-in languages under
Piston's names and aliases, each with its image's own version, asked of the image once
(a tiny program printing its version: a probe run, not queued and not in the history)
and kept, with the Debian bookworm version as a fallback when the engine cannot answer.

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
from dataclasses import dataclass

from fastapi import Request

from runner import Limits, SandboxError, Verdict
from runner.languages import ALIASES

from ..core import SandboxService

log = logging.getLogger("tui_sandbox.service.piston")

# How long a failed version probe is trusted before the image is asked again.
PROBE_RETRY_S = 30.0


# Piston's names for our built-in languages, their aliases (ours and Piston's usual
# ones), a program that prints the version, and the version that Debian bookworm (with
# its security updates), which the images are built from, has: for when the engine
# cannot be asked.
@dataclass(frozen=True)
class Known:
    aliases: tuple[str, ...]
    probe: str
    fallback: str


KNOWN: dict[str, Known] = {
    "python": Known(("py", "py3", "python3"),
                    "import sys; print('%d.%d.%d' % sys.version_info[:3])", "3.11.2"),
    "javascript": Known(("js", "node", "node-js", "node-javascript", "nodejs"),
                        "console.log(process.versions.node)", "18.20.4"),
    "bash": Known(("sh", "shell"),
                  'echo "${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}.${BASH_VERSINFO[2]}"', "5.2.15"),
    "c": Known(("gcc",),
               '#include <stdio.h>\nint main(void) {\n'
               '    printf("%d.%d.%d\\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);\n'
               '    return 0;\n}\n', "12.2.0"),
}


class Catalog:
    """The built-in languages this server has, each with its image's own version, asked
    once (a probe run, not queued and not in the history) and kept."""

    def __init__(self, service: SandboxService) -> None:
        self.service = service
        self._versions: dict[str, str] = {}
        self._failed_at: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def names(self) -> list[str]:
        return [name for name in KNOWN if name in self.service.sandbox.languages]

    async def runtimes(self) -> list[tuple[str, str]]:
        names = self.names()
        async with self._lock:
            due = [name for name in names if name not in self._versions
                   and time.monotonic() - self._failed_at.get(name, -math.inf) > PROBE_RETRY_S]
            if due:
                found = await asyncio.gather(*(asyncio.to_thread(self._probe, name) for name in due))
                for name, version in zip(due, found, strict=True):
                    if version:
                        self._versions[name] = version
                    else:
                        self._failed_at[name] = time.monotonic()
        return [(name, self._versions.get(name, KNOWN[name].fallback)) for name in names]

    def _probe(self, name: str) -> str | None:
        try:
            result = self.service.sandbox.run(KNOWN[name].probe, name, Limits(timeout=20))
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
        names = self.names()
        if key in names:
            return key
        for name in names:
            if key in KNOWN[name].aliases:
                return name
        alias = ALIASES.get(key)
        return alias if alias in names else None


def catalog_for(request: Request, service: SandboxService) -> Catalog:
    """The catalog kept in the app's state, one per service: a new service asks its images anew."""
    catalog = getattr(request.app.state, "piston_catalog", None)
    if catalog is None or catalog.service is not service:
        catalog = request.app.state.piston_catalog = Catalog(service)
    return catalog
