"""Command-palette entries: every experiment, so a teacher can type 'fork' and go, and
the app's own commands (the report, the history setting, both ways, open, input), all of
them the main screen's (the App's main_screen: the palette opens over any screen)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class _Listed(Provider):
    """A provider of a fixed list of (name, help, callback)."""

    def _commands(self):
        return []

    async def discover(self) -> Hits:
        for name, help, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help)


class ExperimentCommands(_Listed):
    def _commands(self):
        main = self.app.main_screen
        for experiment in main.experiments:        # the teacher's pushes among them
            yield (f"Experiment: {experiment.label}", experiment.expect,
                   partial(main.load_experiment, experiment))


class AppCommands(_Listed):
    def _commands(self):
        main = self.app.main_screen
        recording = main.runs.history.recording
        return [
            ("Report: run the experiments and write the report",
             "Runs the seeds' experiments for real (both runtimes when gVisor is there) and writes REPORT.md",
             partial(main.write_report, False)),
            ("Report: my own runs, from the history", "Writes a report of your last runs (MY-RUNS.md)",
             partial(main.write_report, True)),
            ("History: stop recording my runs" if recording else "History: record my runs",
             "The history is local and yours alone; F7 shows it",
             partial(main.set_history_recording, not recording)),
            ("Both ways: the network off and on (F6)", "Runs the program twice and compares",
             partial(main.both_ways_with, "network")),
            ("Both ways: read-only root off and on (F6)", "Runs the program twice and compares",
             partial(main.both_ways_with, "read_only")),
            ("Open a file (ctrl+o)", "Load a program into the editor", main.action_open),
            ("Input: prepare the program's input (F8)", "A box or a file, instead of typing as it runs",
             main.action_prepared_input),
            ("History: my runs (F7)", "Newest first, searchable; enter reopens one", main.action_history),
        ]
