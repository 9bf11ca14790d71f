"""Command-palette entries: every experiment, so a teacher can type 'fork' and go."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .experiments import load_experiments


class ExperimentCommands(Provider):
    def _commands(self):
        for experiment in load_experiments():
            yield (f"Experiment: {experiment.label}", experiment.expect,
                   partial(self.app.load_experiment, experiment))

    async def discover(self) -> Hits:
        for name, help, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help)
