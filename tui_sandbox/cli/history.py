"""`tui-sandbox history`: the runs kept, newest first, or one in full."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from runner import format_size


def add_history_parser(commands) -> None:
    hist = commands.add_parser("history", help="list the runs the server has kept, or show one")
    hist.add_argument("id", nargs="?", metavar="ID", help="show this run in full")
    hist.add_argument("--user", help="only this user's runs")
    hist.add_argument("--verdict", help="only runs that ended so: ok, error, timeout, oom, output_limit, signal, "
                      "cancelled, engine_error")
    hist.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20, newest first)")
    hist.add_argument("--json", action="store_true", help="print JSON")
    hist.add_argument("--history", metavar="PATH", help="the history's file (default: in $XDG_DATA_HOME)")
    hist.set_defaults(handler=cmd_history)


def cmd_history(args) -> int:
    from .. import history

    path = Path(args.history) if args.history else history.default_path()
    if not path.exists():
        if args.id:
            print(f"tui-sandbox: no run {args.id}: there is no history at {path} yet", file=sys.stderr)
            return 1
        print("[]" if args.json else f"no runs yet (the history is kept at {path})")
        return 0
    from ..history.errors import HistoryUnavailable

    try:
        store = history.History(path)
        try:
            if args.id:
                record = store.get(args.id)
                if record is None:
                    print(f"tui-sandbox: no run {args.id} in {path}", file=sys.stderr)
                    return 1
                print(json.dumps(record.to_dict(), indent=2) if args.json else describe_record(record))
                return 0
            records = store.list(user=args.user, verdict=args.verdict, limit=args.limit)
        finally:
            store.close()
    except HistoryUnavailable as exc:           # a full disk, a broken file: what and why, in one line
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([record.to_dict() for record in records]))
    elif not records:
        print("no runs" + (" match" if args.user or args.verdict else f" yet (the history is kept at {path})"))
    else:
        print(f"{'ID':<16}  {'TIME':<19}  {'USER':<16}  {'LANGUAGE':<10}  {'VERDICT':<12}  DURATION")
        for r in records:
            duration = "-" if r.duration_s is None else f"{r.duration_s:.2f} s"
            print(f"{r.id:<16}  {_when(r.finished_at)}  {r.user[:16]:<16}  {r.language[:10]:<10}  "
                  f"{r.verdict:<12}  {duration}")
    return 0


def _when(unix_time: float | None) -> str:
    import time

    return "-" if unix_time is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(unix_time))


def describe_record(r) -> str:
    """One run from the history, in full, for a person."""
    limits = r.limits
    lines = [
        f"run {r.id}: {r.verdict}: {r.kill_reason}",
        f"user {r.user} (from {r.origin}) · {r.language} · {r.runtime}",
        f"queued {_when(r.queued_at)} · started {_when(r.started_at)} · ended {_when(r.finished_at)}",
        "limits: " + ", ".join([
            f"memory {format_size(limits['memory_bytes'])}", f"cpus {limits['cpus']:g}", f"pids {limits['pids']}",
            f"timeout {limits['timeout_s']:g} s", f"network {'on' if limits['network'] else 'off'}",
            "read-only" if limits["read_only"] else "writable"]),
        " · ".join(part for part in (
            f"exit {r.exit_code}" if r.exit_code is not None else None,
            f"signal {r.signal}" if r.signal else None,
            f"{r.duration_s:.2f} s" if r.duration_s is not None else None,
            f"peak {format_size(r.peak_memory_bytes)}" if r.peak_memory_bytes is not None else None,
            f"cpu {r.cpu_seconds:.2f} s" if r.cpu_seconds is not None else None,
            "output truncated" if r.truncated else None) if part),
    ]
    for title, text in (("source", r.source), ("input", r.stdin), ("output", r.output), ("error", r.error)):
        if text or title in ("source", "output"):
            lines += [f"── {title}", text.rstrip("\n")]
    return "\n".join(lines)
