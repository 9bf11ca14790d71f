"""Run history: every run's request and result in SQLite, written whatever the outcome.

One file in the XDG data directory (WAL mode, so the service writes while the app and
`tui-sandbox history` read). Each connection belongs to the thread that opened it;
writes are single statements, so a crash never leaves half a row. A row that cannot be
written (the disk is full) is held in memory and written with the next (held.py); a
read that cannot be made is a HistoryDown naming the disk.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterable

from runner import Limits, RunResult
from runner.paths import data_dir

from .errors import HistoryDown, HistoryUnavailable, disk_hint
from .held import HeldRows

# What is kept of a run's output: enough to read what happened, never a disk filler.
KEPT_OUTPUT_CHARS = 64 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    origin TEXT NOT NULL,            -- http, piston, app, cli
    language TEXT NOT NULL,
    source TEXT NOT NULL,
    limits TEXT NOT NULL,            -- JSON, as Limits.to_dict()
    verdict TEXT NOT NULL,           -- a runner verdict, or engine_error
    kill_reason TEXT NOT NULL,
    exit_code INTEGER,
    signal TEXT,
    output TEXT NOT NULL,
    error TEXT NOT NULL,
    truncated INTEGER NOT NULL,
    duration_s REAL,
    peak_memory_bytes INTEGER,
    cpu_seconds REAL,
    runtime TEXT NOT NULL,
    queued_at REAL NOT NULL,         -- Unix time
    started_at REAL,
    finished_at REAL NOT NULL,
    stdin TEXT NOT NULL DEFAULT '',  -- what the program was given to read (capped)
    compile_failed INTEGER NOT NULL DEFAULT 0,
    passed INTEGER,                  -- against an expected output; NULL when none was given
    first_difference TEXT,
    worker TEXT,                     -- the cluster's worker that ran it; NULL on one host
    cpu_throttled_s REAL,            -- how long the CPU limit held it back; NULL where unknown
    blocked TEXT,                    -- JSON: the walls it hit; NULL where none could be seen
    walls_watched TEXT               -- JSON: the kinds of wall that could be seen
);
CREATE INDEX IF NOT EXISTS runs_by_user ON runs (user, finished_at);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (finished_at);
"""

COLUMNS = ("id", "user", "origin", "language", "source", "limits", "verdict", "kill_reason",
           "exit_code", "signal", "output", "error", "truncated", "duration_s", "peak_memory_bytes",
           "cpu_seconds", "runtime", "queued_at", "started_at", "finished_at", "stdin", "compile_failed",
           "passed", "first_difference", "worker", "cpu_throttled_s",
           "blocked", "walls_watched")
# Kept as JSON text, in SQLite and PostgreSQL alike.
JSON_COLUMNS = ("limits", "blocked", "walls_watched")


def default_path() -> Path:
    return data_dir() / "history.sqlite3"


@dataclass(frozen=True)
class RunRecord:
    """One row: a run as it was asked for and as it ended."""
    id: str
    user: str
    origin: str
    language: str
    source: str
    limits: dict
    verdict: str
    kill_reason: str
    exit_code: int | None
    signal: str | None
    output: str
    error: str
    truncated: bool
    duration_s: float | None
    peak_memory_bytes: int | None
    cpu_seconds: float | None
    runtime: str
    queued_at: float
    started_at: float | None
    finished_at: float
    # Its standard input: what was given whole, then what was typed as it ran, so that
    # reopening it can run it again the same way. Capped like the output.
    stdin: str = ""
    compile_failed: bool = False
    passed: bool | None = None
    first_difference: str | None = None
    worker: str | None = None
    cpu_throttled_s: float | None = None
    blocked: list | None = None
    walls_watched: list | None = None

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in COLUMNS}

    def result(self) -> RunResult | None:
        """The run's result as the engine gave it (its output as kept); None for a run the
        engine could not carry out (an engine_error row has no result)."""
        if self.verdict == "engine_error":
            return None
        return RunResult.from_dict({**self.to_dict(), "duration_s": self.duration_s or 0.0})

    @classmethod
    def of_result(cls, *, id: str, user: str, origin: str, source: str, result: RunResult,
                  queued_at: float, started_at: float | None, stdin: str | bytes | None = None) -> "RunRecord":
        # Every field the result and the row share, from the result's one data form, so
        # that a field added to RunResult cannot be dropped here (test_history_file checks).
        data = {key: value for key, value in result.to_dict().items() if key in _FIELDS}
        data.update(output=_cap(result.output), error=_cap(result.error),
                    truncated=result.truncated or len(result.output) > KEPT_OUTPUT_CHARS
                    or len(result.error) > KEPT_OUTPUT_CHARS)
        return cls(id=id, user=user, origin=origin, source=source, queued_at=queued_at, started_at=started_at,
                   finished_at=time.time(), stdin=_input_text(stdin), **data)

    @classmethod
    def of_failure(cls, *, id: str, user: str, origin: str, source: str, language: str, limits: Limits,
                   message: str, queued_at: float, started_at: float | None = None,
                   stdin: str | bytes | None = None) -> "RunRecord":
        """A run the engine could not carry out (no engine, no image): kept all the same."""
        return cls(id=id, user=user, origin=origin, language=language, source=source,
                   limits=limits.to_dict(), verdict="engine_error", kill_reason=message,
                   exit_code=None, signal=None, output="", error="", truncated=False, duration_s=None,
                   peak_memory_bytes=None, cpu_seconds=None, runtime=limits.runtime,
                   queued_at=queued_at, started_at=started_at, finished_at=time.time(),
                   stdin=_input_text(stdin))


_FIELDS = {f.name for f in fields(RunRecord)}


def to_row(record: RunRecord) -> dict:
    """The record's values as a database keeps them: JSON_COLUMNS as JSON text."""
    values = record.to_dict()
    for name in JSON_COLUMNS:
        if values[name] is not None:
            values[name] = json.dumps(values[name])
    return values


def from_row(values: dict) -> dict:
    """The inverse of to_row, for RunRecord(**values)."""
    for name in JSON_COLUMNS:
        if values.get(name) is not None:
            values[name] = json.loads(values[name])
    return values


def _input_text(stdin: str | bytes | None) -> str:
    if isinstance(stdin, bytes):
        stdin = stdin[:KEPT_OUTPUT_CHARS * 4].decode("utf-8", errors="replace")
    return _cap(stdin or "")


def _cap(text: str) -> str:
    return text if len(text) <= KEPT_OUTPUT_CHARS else text[:KEPT_OUTPUT_CHARS]


class History:
    """The store. Safe to share between threads: each gets its own connection."""

    def __init__(self, path: Path | None = None) -> None:
        """Raises HistoryUnavailable (one line) if the file cannot be opened."""
        self.path = Path(path) if path is not None else default_path()
        self._local = threading.local()
        self._held = HeldRows(str(self.path), (sqlite3.OperationalError,))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connection() as db:
                db.executescript(SCHEMA)
                _add_missing_columns(db)
        except (sqlite3.Error, OSError) as exc:
            raise HistoryUnavailable(f"the history at {self.path} cannot be opened ({disk_hint(exc)})") from None

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    def add(self, record: RunRecord) -> bool:
        """Written now: True; or held in memory until it can be (the disk is full): False."""
        return self._held.write(self._insert, record) == 0

    def flush(self, final: bool = False) -> int:
        """Write the rows held; how many are still held (final: named in the log as lost)."""
        return self._held.flush(self._insert, final)

    def _insert(self, record: RunRecord) -> None:
        values = to_row(record)
        values["truncated"] = int(record.truncated)
        placeholders = ", ".join(f":{name}" for name in COLUMNS)
        self._connection().execute(
            f"INSERT OR REPLACE INTO runs ({', '.join(COLUMNS)}) VALUES ({placeholders})", values)

    def delete(self, run_id: str) -> bool:
        """Forget one run (Judge0's DELETE /submissions/{token}); False if it was not here."""
        return self._connection().execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount > 0

    def _read(self, sql: str, args: Iterable = ()) -> list[sqlite3.Row]:
        """A query a client waits on, or HistoryDown saying why it cannot be answered now."""
        try:
            return self._connection().execute(sql, tuple(args)).fetchall()
        except sqlite3.OperationalError as exc:
            raise HistoryDown(f"the history at {self.path} cannot be read ({disk_hint(exc)})",
                              "runs still run, and their rows are kept: ask again once there is room") from None

    def get(self, run_id: str) -> RunRecord | None:
        held = self._held.get(run_id)
        if held is not None:
            return held
        rows = self._read("SELECT * FROM runs WHERE id = ?", (run_id,))
        return _record(rows[0]) if rows else None

    def list(self, *, user: str | None = None, verdict: str | None = None, text: str | None = None,
             limit: int = 50, before: float | None = None) -> list[RunRecord]:
        """Newest first. text matches the source, the output or the kill reason."""
        where, args = [], []
        if user is not None:
            where.append("user = ?")
            args.append(user)
        if verdict is not None:
            where.append("verdict = ?")
            args.append(verdict)
        if text:
            where.append("(instr(source, ?) OR instr(output, ?) OR instr(error, ?) OR instr(kill_reason, ?))")
            args += [text] * 4
        if before is not None:
            where.append("finished_at < ?")
            args.append(before)
        sql = "SELECT * FROM runs" + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY finished_at DESC LIMIT ?"
        return [_record(row) for row in self._read(sql, (*args, max(1, min(limit, 1000))))]

    def totals(self, *, since: float | None = None, exclude: Iterable[str] = ()) -> dict[str, int]:
        """How many runs ended with each verdict (engine_error included), of those that
        ended at or after since (Unix time), less the runs named in exclude."""
        where, args = _window(since, exclude)
        sql = f"SELECT verdict, COUNT(*) AS n FROM runs{where} GROUP BY verdict"
        return {row["verdict"]: row["n"] for row in self._read(sql, args)}

    def by_user(self, *, since: float | None = None, exclude: Iterable[str] = ()) -> list[UserTally]:
        """Each user's runs in the same window as totals(): how many, how many timed out
        or were OOM-killed, and how the last one ended. By user name."""
        where, args = _window(since, exclude)
        # SQLite: with a single max() in the query, the bare columns (verdict, kill_reason)
        # come from the row holding that max, i.e. the user's last run.
        sql = (f"SELECT user, COUNT(*) AS runs, SUM(verdict = 'timeout') AS timeouts, "
               f"SUM(verdict = 'oom') AS oom_kills, MAX(finished_at) AS last_at, verdict, kill_reason "
               f"FROM runs{where} GROUP BY user ORDER BY user")
        walls = walls_by_user(self._read(walls_query(where), args))
        return [UserTally(user=row["user"], runs=row["runs"], timeouts=row["timeouts"], oom_kills=row["oom_kills"],
                          last_verdict=row["verdict"], last_kill_reason=row["kill_reason"], last_at=row["last_at"],
                          walls=walls.get(row["user"], {}))
                for row in self._read(sql, args)]

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


@dataclass(frozen=True)
class UserTally:
    """One user's runs in a window of the history (History.by_user)."""
    user: str
    runs: int
    timeouts: int
    oom_kills: int
    last_verdict: str
    last_kill_reason: str
    last_at: float
    walls: dict[str, int] = field(default_factory=dict)     # the walls their runs hit: kind -> times


def walls_query(where: str) -> str:
    """The rows of the runs in a window that hit a wall (SQLite's placeholders)."""
    hit = "blocked IS NOT NULL AND blocked <> '[]'"
    return f'SELECT "user", blocked FROM runs{where + " AND " if where else " WHERE "}{hit}'


def walls_by_user(rows) -> dict[str, dict[str, int]]:
    """Each user's walls, by kind: how many times, over the runs walls_query found."""
    tally: dict[str, dict[str, int]] = {}
    for row in rows:
        mine = tally.setdefault(row["user"], {})
        for wall in json.loads(row["blocked"]):
            mine[wall["kind"]] = mine.get(wall["kind"], 0) + wall["count"]
    return tally


def _window(since: float | None, exclude: Iterable[str]) -> tuple[str, list]:
    """The WHERE clause (with its arguments) of the runs that ended at or after since,
    less those in exclude."""
    where, args = [], []
    if since is not None:
        where.append("finished_at >= ?")
        args.append(since)
    excluded = list(exclude)
    if excluded:
        where.append(f"id NOT IN ({', '.join('?' * len(excluded))})")
        args += excluded
    return (f" WHERE {' AND '.join(where)}" if where else ""), args


# Columns added since the first release, with their definitions: an older history file
# gets them when it is first opened, and keeps every row it had.
ADDED_COLUMNS = {"stdin": "TEXT NOT NULL DEFAULT ''", "compile_failed": "INTEGER NOT NULL DEFAULT 0",
                 "passed": "INTEGER", "first_difference": "TEXT", "worker": "TEXT",
                 "cpu_throttled_s": "REAL", "blocked": "TEXT", "walls_watched": "TEXT"}


def _add_missing_columns(db: sqlite3.Connection) -> None:
    present = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    for name, definition in ADDED_COLUMNS.items():
        if name in present:
            continue
        try:
            db.execute(f"ALTER TABLE runs ADD COLUMN {name} {definition}")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):   # another process added it just now
                raise


def _record(row: sqlite3.Row) -> RunRecord:
    values = from_row(dict(row))
    values["truncated"] = bool(values["truncated"])
    values["compile_failed"] = bool(values["compile_failed"])
    values["passed"] = None if values["passed"] is None else bool(values["passed"])
    return RunRecord(**values)
