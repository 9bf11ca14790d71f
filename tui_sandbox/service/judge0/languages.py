"""The languages this server offers Judge0's clients: every one the engine has, under its
Judge0 id (the built-in ones under those Judge0 CE 1.13.1 gives them, the ids its official
SDK resolves Python, JavaScript, Bash and C to; see Language.judge0), each named with its
image's own version, as Judge0 names its languages.

    listed = await languages(request, service)   # [Judge0Language(71, "python", "Python (3.11.2)", ...), ...]
    by_id(listed, 71).name                        # "Python (3.11.2)"
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from runner import Limits

from ..interface import Service
from ..piston.catalog import catalog_for


@dataclass(frozen=True)
class Judge0Language:
    id: int
    language: str            # ours
    name: str                # Judge0's, with the version
    source_file: str
    compile_cmd: str | None
    run_cmd: str

    def summary(self) -> dict:
        """GET /languages' entry."""
        return {"id": self.id, "name": self.name}

    def details(self) -> dict:
        """GET /languages/{id}'s answer."""
        return {"id": self.id, "name": self.name, "is_archived": False, "source_file": self.source_file,
                "compile_cmd": self.compile_cmd, "run_cmd": self.run_cmd}


async def languages(request: Request, service: Service) -> list[Judge0Language]:
    """Every language this server has, by Judge0 id, with the versions Piston's catalog
    asked of the images (one probe for both fronts)."""
    versions = dict(await catalog_for(request, service).runtimes())
    listed = []
    for name, version in versions.items():
        language = service.sandbox.language(name)
        judge0_id, pattern = language.judge0
        compile_argv, run_argv = language.commands(Limits().memory)
        listed.append(Judge0Language(judge0_id, name, pattern.format(version=version), language.file,
                                     " ".join(compile_argv) or None, " ".join(run_argv)))
    return sorted(listed, key=lambda language: language.id)


def by_id(listed: list[Judge0Language], judge0_id: int) -> Judge0Language | None:
    return next((language for language in listed if language.id == judge0_id), None)
