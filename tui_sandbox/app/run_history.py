"""The app's runs in the history: each one recorded as it ends, from the run's worker,
unless the learner has turned recording off (F7). The store is the learner's alone."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from runner import Language, Limits, RunResult, SandboxError

from ..history.records import user_name
from .messages import HistoryFailed

if TYPE_CHECKING:
    from textual.message import Message

    from ..history.store import History


def keep_private(path: Path) -> None:
    """The history is the learner's alone: its folder and files readable by them only,
    whatever the umask (on a shared classroom machine it would be 0644 otherwise)."""
    try:
        path.parent.chmod(0o700)
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            file = path.parent / name
            if file.exists():
                file.chmod(0o600)
    except OSError:
        pass      # not ours to change (a shared path given on purpose): leave it


class RunHistory:
    """Recording the app's runs. `record` and `record_failure` run in workers; a history
    that cannot be written is told (post(HistoryFailed), from the worker), never in the
    way of a run."""

    def __init__(self, post: Callable[[Message], None]) -> None:
        self._post = post
        self.recording = True
        self.path: Path | None = None         # None: the default, in the XDG data dir
        self._store: History | None = None
        self._lock = threading.Lock()
        self.recorded: list[str] = []         # ids this app recorded, newest last

    def store(self) -> History:
        """The history store, opened on first use. Blocks (SQLite): workers only."""
        from ..history.store import History

        with self._lock:
            if self._store is None:
                self._store = History(self.path)
                keep_private(self._store.path)
            return self._store

    def record(self, source: str, result: RunResult, queued_at: float, started_at: float | None,
               stdin: str | bytes | None = None) -> None:
        if not self.recording:
            return
        from ..history.store import RunRecord

        self._add(RunRecord.of_result(id=uuid.uuid4().hex[:16], user=user_name(), origin="app", source=source,
                                      result=result, queued_at=queued_at, started_at=started_at, stdin=stdin))

    def record_failure(self, source: str, language: Language, limits: Limits, error: SandboxError,
                       queued_at: float, started_at: float | None = None,
                       stdin: str | bytes | None = None) -> None:
        if not self.recording:
            return
        from ..history.store import RunRecord

        self._add(RunRecord.of_failure(id=uuid.uuid4().hex[:16], user=user_name(), origin="app", source=source,
                                       language=language.name, limits=limits, message=error.message,
                                       queued_at=queued_at, started_at=started_at, stdin=stdin))

    def _add(self, record) -> None:
        try:
            history = self.store()
            try:
                history.add(record)
            finally:
                history.close()      # this worker thread's connection: the thread ends soon
        except Exception as exc:  # noqa: BLE001 - a history that cannot be written never stops a run
            self._post(HistoryFailed(f"this run was not recorded: {exc}"))
            return
        self.recorded.append(record.id)
