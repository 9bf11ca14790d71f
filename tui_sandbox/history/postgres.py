"""The history in PostgreSQL, for a cluster's fronts (serve --history postgresql://...):
the same rows and the same calls as History (add, get, list, and the class view's
tallies), so whatever reads the SQLite history reads this one alike.

While the database cannot be reached, add() keeps each row in a local spool (one JSON
line a row, under a file lock shared by the fronts of this host) and a background
thread writes the spool once it answers again; while the spool cannot be written either
(its disk is full), the row is held in memory (held.py) and spooled or written later.
Rows are written by id (an upsert), so a row spooled and written twice is one row.
psycopg loads only here.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import threading
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from runner.paths import data_dir

from .errors import HistoryDown, HistoryUnavailable
from .held import HeldRows
from .store import (
    COLUMNS,
    RunRecord,
    UserTally,
    _window,
    from_row,
    to_row,
    walls_by_user,
    walls_query,
)

log = logging.getLogger("tui_sandbox.history")

FLUSH_EVERY_S = 2.0
INSTALL = "pip install 'tui-sandbox[cluster]'"


def is_postgres_url(where: object) -> bool:
    return isinstance(where, str) and urlsplit(where).scheme in ("postgresql", "postgres")


def _column_type(field: dataclasses.Field) -> str:
    """A RunRecord field's PostgreSQL type, from its annotation: a column added to the
    record is a column here with no second list."""
    hint = str(field.type)
    kind = ("BOOLEAN" if "bool" in hint else "BIGINT" if "int" in hint
            else "DOUBLE PRECISION" if "float" in hint else "TEXT")
    return kind + ("" if "None" in hint else " NOT NULL" if field.default is dataclasses.MISSING
                   else f" NOT NULL DEFAULT {_literal(field.default)}")


def _literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return "''" if value == "" else repr(value)


_FIELDS = {field.name: field for field in dataclasses.fields(RunRecord)}
_QUOTED = ", ".join(f'"{name}"' for name in COLUMNS)


class PostgresHistory:
    """Safe to share between threads: each gets its own connection."""

    def __init__(self, url: str, spool: Path | None = None) -> None:
        try:
            import psycopg
        except ImportError:
            raise HistoryUnavailable(f"a PostgreSQL history needs psycopg: {INSTALL}") from None
        self._psycopg = psycopg
        self.url = url
        parts = urlsplit(url)
        self.path = f"{parts.scheme}://{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
        self.spool = spool or data_dir() / "history-spool.jsonl"
        self.spool.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._held = HeldRows(self.path, (OSError,))
        try:
            self._make_schema()
        except psycopg.Error as exc:
            raise HistoryUnavailable(self._explain(exc)) from None
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_now_and_then, daemon=True,
                                         name="tui-sandbox-history-spool")
        self._flusher.start()

    def _explain(self, exc: Exception) -> str:
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        if "does not exist" in text and "database" in text:
            return (f"the history's database at {self.path} does not exist ({text}): make it "
                    f"(createdb {urlsplit(self.url).path.lstrip('/')}), or fix --history")
        if "password" in text or "authentication" in text:
            return f"PostgreSQL at {self.path} refused the login ({text}): fix the user or password in --history"
        return f"PostgreSQL at {self.path} does not answer ({text}): start it, or fix --history"

    def _connection(self):
        db = getattr(self._local, "db", None)
        if db is None or db.closed:
            db = self._psycopg.connect(self.url, autocommit=True, connect_timeout=3)
            self._local.db = db
        return db

    def _execute(self, sql: str, args: Iterable = ()) -> list[dict]:
        from psycopg.rows import dict_row

        try:
            with self._connection().cursor(row_factory=dict_row) as cursor:
                cursor.execute(sql, tuple(args))
                return cursor.fetchall() if cursor.description else []
        except self._psycopg.OperationalError:
            self._local.db = None          # a new connection next time
            raise

    def _make_schema(self) -> None:
        columns = ", ".join(f'"{name}" {_column_type(_FIELDS[name])}' for name in COLUMNS if name != "id")
        self._execute(f'CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, {columns})')
        for name in COLUMNS:                       # an older table gets the columns added since
            if name != "id":
                self._execute(f'ALTER TABLE runs ADD COLUMN IF NOT EXISTS "{name}" {_column_type(_FIELDS[name])}')
        self._execute('CREATE INDEX IF NOT EXISTS runs_by_user ON runs ("user", finished_at)')
        self._execute("CREATE INDEX IF NOT EXISTS runs_by_time ON runs (finished_at)")

    # --- writing -----------------------------------------------------------------------

    def add(self, record: RunRecord) -> bool:
        """Written now, or spooled and written when the database is back: True; or held
        in memory (the spool's disk is full): False."""
        return self._held.write(self._write_or_spool, record) == 0

    def flush(self, final: bool = False) -> int:
        """Write (or spool) the rows held; how many are still held (final: named in the log as lost)."""
        return self._held.flush(self._write_or_spool, final)

    def _write_or_spool(self, record: RunRecord) -> None:
        try:
            self._write(record)
        except self._psycopg.OperationalError as exc:
            self._spool_one(record)
            log.warning("the history at %s is unreachable (%s): run %s kept in %s", self.path,
                        str(exc).strip().splitlines()[-1:], record.id, self.spool)

    def _spool_one(self, record: RunRecord) -> None:
        """One line at the spool's end, whole or not at all: OSError if there is no room."""
        line = (json.dumps(record.to_dict()) + "\n").encode()
        fd = os.open(self.spool, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            end = os.lseek(fd, 0, os.SEEK_END)
            try:
                written = 0
                while written < len(line):
                    written += os.write(fd, line[written:])
            except OSError:
                os.ftruncate(fd, end)          # no half line for the flusher to stumble on
                raise
        finally:
            os.close(fd)                       # which lets the lock go

    def _write(self, record: RunRecord) -> None:
        values = to_row(record)
        updates = ", ".join(f'"{name}" = EXCLUDED."{name}"' for name in COLUMNS if name != "id")
        self._execute(f"INSERT INTO runs ({_QUOTED}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
                      f"ON CONFLICT (id) DO UPDATE SET {updates}", [values[name] for name in COLUMNS])

    def _spool_locked(self):
        history = self

        class Locked:
            def __enter__(self):
                self.file = open(history.spool, "r+", encoding="utf-8")
                fcntl.flock(self.file, fcntl.LOCK_EX)
                return self.file

            def __exit__(self, *exc_info):
                fcntl.flock(self.file, fcntl.LOCK_UN)
                self.file.close()

        return Locked()

    def flush_spool(self) -> int:
        """Write what the spool kept; how many rows. They stay spooled until all are in."""
        if not self.spool.exists() or self.spool.stat().st_size == 0:
            return 0
        with self._spool_locked() as spool:
            rows = [json.loads(line) for line in spool.read().splitlines() if line.strip()]
            for data in rows:
                self._write(RunRecord(**{key: value for key, value in data.items() if key in _FIELDS}))
            spool.seek(0)
            spool.truncate()
        log.warning("the history at %s is back: %d kept run(s) written", self.path, len(rows))
        return len(rows)

    def _flush_now_and_then(self) -> None:
        while not self._stop.wait(FLUSH_EVERY_S):
            try:
                self.flush()               # the rows held in memory: to the database, or the spool
                self.flush_spool()
            except Exception:  # noqa: BLE001 - still down: try again later
                pass

    def delete(self, run_id: str) -> bool:
        """Forget one run (Judge0's DELETE /submissions/{token}); False if it was not here."""
        return bool(self._query("DELETE FROM runs WHERE id = %s RETURNING id", (run_id,)))

    # --- reading -----------------------------------------------------------------------

    def _query(self, sql: str, args: Iterable = ()) -> list[dict]:
        """A query a client waits on, or HistoryDown saying why it cannot be answered now."""
        try:
            return self._execute(sql, args)
        except self._psycopg.OperationalError as exc:
            raise HistoryDown(self._explain(exc)) from None

    def get(self, run_id: str) -> RunRecord | None:
        rows = self._query("SELECT * FROM runs WHERE id = %s", (run_id,))
        return _record(rows[0]) if rows else None

    def list(self, *, user: str | None = None, verdict: str | None = None, text: str | None = None,
             limit: int = 50, before: float | None = None) -> list[RunRecord]:
        """Newest first. text matches the source, the output or the kill reason."""
        where, args = [], []
        for column, value in (('"user" = %s', user), ("verdict = %s", verdict), ("finished_at < %s", before)):
            if value is not None:
                where.append(column)
                args.append(value)
        if text:
            where.append("(strpos(source, %s) > 0 OR strpos(output, %s) > 0 OR strpos(error, %s) > 0 "
                         "OR strpos(kill_reason, %s) > 0)")
            args += [text] * 4
        sql = "SELECT * FROM runs" + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY finished_at DESC LIMIT %s"
        return [_record(row) for row in self._query(sql, (*args, max(1, min(limit, 1000))))]

    def totals(self, *, since: float | None = None, exclude: Iterable[str] = ()) -> dict[str, int]:
        where, args = _window(since, exclude)
        rows = self._query(f"SELECT verdict, COUNT(*) AS n FROM runs{where.replace('?', '%s')} GROUP BY verdict",
                          args)
        return {row["verdict"]: row["n"] for row in rows}

    def by_user(self, *, since: float | None = None, exclude: Iterable[str] = ()) -> list[UserTally]:
        where, args = _window(since, exclude)
        sql = ('SELECT "user", COUNT(*) AS runs, SUM((verdict = \'timeout\')::int) AS timeouts, '
               "SUM((verdict = 'oom')::int) AS oom_kills, MAX(finished_at) AS last_at, "
               "(array_agg(verdict ORDER BY finished_at DESC))[1] AS verdict, "
               "(array_agg(kill_reason ORDER BY finished_at DESC))[1] AS kill_reason "
               f'FROM runs{where.replace("?", "%s")} GROUP BY "user" ORDER BY "user"')
        walls = walls_by_user(self._query(walls_query(where).replace("?", "%s"), args))
        return [UserTally(user=row["user"], runs=row["runs"], timeouts=row["timeouts"], oom_kills=row["oom_kills"],
                          last_verdict=row["verdict"], last_kill_reason=row["kill_reason"], last_at=row["last_at"],
                          walls=walls.get(row["user"], {}))
                for row in self._query(sql, args)]

    def close(self) -> None:
        self._stop.set()
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def _record(row: dict) -> RunRecord:
    return RunRecord(**from_row({key: value for key, value in row.items() if key in _FIELDS}))


def open_history(where: str | Path | None):
    """The history at where: PostgreSQL for a postgresql:// URL, else the SQLite file
    (None: the default one). Raises HistoryUnavailable for a database that cannot be used."""
    if is_postgres_url(where):
        return PostgresHistory(str(where))
    from .store import History

    return History(Path(where) if where is not None else None)
