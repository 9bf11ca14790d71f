"""Ready-made experiments: small programs that each poke at one wall of the sandbox.
They are data (files beside index.toml), so adding one needs no code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Experiment:
    file: str
    title: str
    language: str
    expect: str       # what happens with the default limits
    toggle: str       # which control changes the outcome

    @property
    def label(self) -> str:
        return f"{self.title} ({self.language})"

    def source(self) -> str:
        return resources.files(__name__).joinpath(self.file).read_text(encoding="utf-8")


def load_experiments() -> list[Experiment]:
    index = tomllib.loads(resources.files(__name__).joinpath("index.toml").read_text(encoding="utf-8"))
    return [Experiment(**entry) for entry in index.get("experiment", [])]
