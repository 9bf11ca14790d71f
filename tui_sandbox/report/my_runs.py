"""The report of the learner's own runs (`tui-sandbox report --from-history`, and the
app's command): their last runs from the history, what worked, what failed, and what
the runs had in common or changed between them."""

from __future__ import annotations

import time
from pathlib import Path

from runner import Engine, EngineInfo, Limits, Sandbox, SandboxError, format_size
from runner.runtimes import runtime

from ..compare import Side, difference, first_lines
from .lessons import quote
from .markdown import cell, date, fence, limits_line, verdict_line
from .runs import ERROR_LINES, OUTPUT_LINES


def history_markdown(records: list, *, user: str, history_path: Path, info: EngineInfo | None,
                     written_at: float | None = None) -> str:
    """The report of the learner's own runs (newest first, as the history gives them)."""
    from ..history.records import verdict_text, when

    written_at = written_at or time.time()
    used = ", ".join(sorted({runtime(r.runtime).label for r in records})) or "-"
    lines = ["# What the sandbox did: my runs", "",
             f"Written by `tui-sandbox report --from-history` on {date(written_at)}, from the last "
             f"{len(records)} runs of {user} kept in `{history_path}`. Everything below is what those runs did.", "",
             "| | |", "| --- | --- |",
             f"| Engine | {cell(info.name) + f', cgroup v{info.cgroup_version}' if info else 'not reachable now'} |",
             f"| Runtimes used | {used} |",
             ""]
    if not records:
        return "\n".join(lines + ["There are no runs in the history yet.", ""])

    def entry(record) -> list[str]:
        result = record.result()
        first = next((line.strip() for line in record.source.splitlines() if line.strip()), "")
        out = [f"### {when(record.finished_at)} · {record.language} · {cell(first[:60])}", ""]
        limits = Limits.from_dict(record.limits)
        if result is None:
            out += [f"- **Not run**: {record.kill_reason}", f"- **Limits**: {limits_line(limits)}", ""]
        else:
            out += [f"- **Verdict**: {verdict_line(result)}", f"- **Kill reason**: {result.kill_reason}",
                    f"- **Limits**: {limits_line(limits)}", ""]
        out += ["<details><summary>The code</summary>", "", fence(record.source, record.language), "",
                "</details>", ""]
        if result is not None:
            shown = first_lines(result.output, OUTPUT_LINES)
            out += ["Output:", "", fence("\n".join(shown) if shown else "(nothing)"), ""]
            if result.error.strip():
                out += ["Errors:", "", fence("\n".join(first_lines(result.error, ERROR_LINES))), ""]
        return out

    ok = [r for r in records if r.verdict == "ok"]
    lines += ["## What worked", ""]
    for record in ok:
        lines += entry(record)
    if not ok:
        lines += ["None of these runs ended OK.", ""]
    lines += ["## What failed or was prevented", ""]
    others = [r for r in records if r.verdict != "ok"]
    for record in others:
        lines += entry(record)
    if not others:
        lines += ["Nothing: every run ended OK.", ""]
    lines += ["## What I learned", ""]
    counts: dict[str, int] = {}
    for record in records:
        counts[verdict_text(record).split(" (")[0]] = counts.get(verdict_text(record).split(" (")[0], 0) + 1
    lines.append("- Of these " + str(len(records)) + " runs: "
                 + ", ".join(f"{n} ended {v}" for v, n in sorted(counts.items(), key=lambda kv: -kv[1])) + ".")
    for verdict, what in (("timeout", "hit the timeout"), ("oom", "ran out of memory"),
                          ("output_limit", "printed past the output cap"), ("signal", "got killed by a signal")):
        chosen = [r for r in records if r.verdict == verdict]
        if chosen:
            reasons = sorted({r.kill_reason for r in chosen})
            lines.append(f"- {len(chosen)} {'run' if len(chosen) == 1 else 'runs'} {what}: "
                         + "; ".join(reasons) + ".")
    # The same program under two settings (F6 makes such pairs): what the switch changed.
    seen = set()
    for i, a in enumerate(records):
        for b in records[i + 1:]:
            if a.source != b.source or a.language != b.language:
                continue
            changed = [k for k in a.limits if a.limits[k] != b.limits.get(k)]
            if len(changed) != 1 or changed[0] not in ("network", "read_only", "runtime"):
                continue
            key = (a.source, changed[0])
            if key in seen:
                continue
            seen.add(key)
            ra, rb = a.result(), b.result()
            name = changed[0]

            def label(record, name=name) -> str:
                value = record.limits[name]
                if name == "network":
                    return f"with the network {'on' if value else 'off'}"
                if name == "read_only":
                    return "with a read-only root" if value else "with a writable root"
                return f"under {runtime(value).label}"

            first = next((line.strip() for line in a.source.splitlines() if line.strip()), "")
            lines.append(f"- {quote(first[:50])}: "
                         + difference(Side(label(b), rb, None if rb else b.kill_reason),
                                      Side(label(a), ra, None if ra else a.kill_reason)) + ".")
    peak = max((r for r in records if r.peak_memory_bytes), key=lambda r: r.peak_memory_bytes, default=None)
    if peak is not None:
        lines.append(f"- The most memory a run held: {format_size(peak.peak_memory_bytes)} "
                     f"(the run of {when(peak.finished_at)}, {verdict_text(peak)}).")
    lines.append("")
    return "\n".join(lines)


def history_report(*, user: str | None = None, limit: int = 20, history_path: Path | None = None,
                   sandbox: Engine | None = None) -> str:
    """The learner's own runs, from the history, as a report."""
    from ..history.records import user_name
    from ..history.store import History, default_path

    user = user or user_name()
    path = history_path or default_path()
    records = []
    if path.exists():
        store = History(path)
        try:
            records = store.list(user=user, limit=limit)
        finally:
            store.close()
    info = None
    own = sandbox is None
    sandbox = sandbox or Sandbox()
    try:
        info = sandbox.info
    except SandboxError:
        info = None
    finally:
        if own:
            sandbox.close()
    return history_markdown(records, user=user, history_path=path, info=info)
