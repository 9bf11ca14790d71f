"""Ready-made experiments: small programs that each poke at one wall of the sandbox.
They are data (files beside index.toml), so adding one needs no code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources


@dataclass(frozen=True)
class Experiment:
    file: str
    title: str
    language: str
    expect: str       # what happens with the default limits
    toggle: str       # which control changes the outcome
    # What the report checks a real run against (see index.toml): with the default limits,
    verdict: str | None = None                  # the verdict,
    shows: tuple[str, ...] = ()                 # lines in its output or errors,
    outcome: str = "works"                      # "works", or "prevented" by the sandbox;
    # and with toggle_limit (a Limits switch) flipped from its default, the same three.
    toggle_limit: str | None = None
    toggled_verdict: str | None = None
    toggled_shows: tuple[str, ...] = field(default=())
    toggled_outcome: str = "works"
    # The walls it must hit (with the default limits, then toggled), as "KIND CALL".
    hits: tuple[str, ...] = field(default=())
    toggled_hits: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.title} ({self.language})"

    def source(self) -> str:
        return resources.files(__name__).joinpath(self.file).read_text(encoding="utf-8")


def load_experiments() -> list[Experiment]:
    index = tomllib.loads(resources.files(__name__).joinpath("index.toml").read_text(encoding="utf-8"))
    experiments = []
    for entry in index.get("experiment", []):
        entry = {key: tuple(value) if isinstance(value, list) else value for key, value in entry.items()}
        experiments.append(Experiment(**entry))
    return experiments
