"""The experiment report: `tui-sandbox report` runs the seeds' experiments for real (both
runtimes when gVisor is registered) and writes what happened; --from-history describes
the learner's own runs; the app's command writes the same."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from runner import Limits, RunResult, Verdict
from runner.runtimes import default_runtime
from tui_sandbox.experiments import load_experiments
from tui_sandbox.history.store import History, RunRecord
from tui_sandbox.report import SEEDS, Case, Report, engine_runtimes, experiments_markdown, plan, seed_experiments

from .pilot import palette, wait_until

ROOT = Path(__file__).resolve().parents[2]
CLI = [str(ROOT / ".venv" / "bin" / "tui-sandbox")]
SECTIONS = ["## Summary", "## What worked", "## What failed or was prevented", "## What I learned"]


def env(tmp_path: Path) -> dict:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}


def table_rows(markdown: str) -> list[list[str]]:
    """The summary table's rows: experiment, runtime, setting, verdict, kill reason, judged."""
    table = markdown.split("## Summary", 1)[1].split("## What worked", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith(("| Experiment", "| ---"))]
    return rows


def test_the_report_runs_every_seed_experiment_for_real(tmp_path, sandbox):
    started = time.monotonic()
    done = subprocess.run([*CLI, "report", "-o", "tmp/REPORT.md"], cwd=tmp_path, env=env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 120
    text = (tmp_path / "tmp" / "REPORT.md").read_text()
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    info = sandbox.info
    assert info.name in text and time.strftime("%Y-%m-%d") in text
    # The runtime a run that names none gets (the baseline), and gVisor against it.
    base = default_runtime(info.runtimes).name
    assert base == "crun", "scripts/docker-engine.sh registers crun"
    runtimes = [base] + (["gVisor (runsc)"] if "runsc" in info.runtimes else [])
    rows = table_rows(text)
    titles = {e.title for e in seed_experiments()}
    assert len(titles) == len(SEEDS)
    for title in titles:
        for runtime in runtimes:
            assert any(row[0] == f"{title} (python)" and row[1] == runtime for row in rows), (title, runtime)
    # Each row's verdict is that run's own, stated again in its entry, with its code and output.
    for experiment, runtime, setting, verdict, reason, judged in rows:
        heading = f"### {experiment} · {runtime}" + ("" if setting == "default" else f" · {setting}")
        entry = text.split(heading + "\n", 1)[1].split("\n### ", 1)[0]
        if verdict == "NOT RUN":
            assert "**Not run**" in entry and judged == "not run"
            continue
        assert f"- **Verdict**: **{verdict}** · " in entry and f"- **Kill reason**: {reason}" in entry
        assert "<details><summary>The code (main.py)</summary>" in entry and "Output" in entry
        assert ("**As expected**" in entry) == (judged == "yes")
        assert ("**Unexpected**" in entry) == (judged == "**unexpected**")
    # Under the baseline these are steady: the sandbox did what index.toml says.
    runc = {(row[0], row[2]): row for row in rows if row[1] == base}
    assert runc[("Hello, world (python)", "default")][3] == "OK"
    assert runc[("Infinite loop (python)", "default")][3] == "TIMEOUT"
    assert runc[("Memory bomb (python)", "default")][3] == "OOM"
    assert runc[("Overwrite its own script (python)", "default")][3] == "ERROR (exit 1)"
    assert runc[("Network check (python)", "network on")][5] == "yes"
    # The walls index.toml says each must hit are there: the report judged them so.
    assert runc[("Network check (python)", "network off")][5] == "yes"
    network = text.split(f"### Network check (python) · {base} · network off\n", 1)[1].split("\n### ", 1)[0]
    assert "network  dns  example.com  blocked (EAI_AGAIN)" in network, network
    assert "network  connect  93.184.216.34:80/tcp  blocked (ENETUNREACH, predicted)" in network, network
    assert runc[("Write to /tmp and the root filesystem (python)", "read-only root")][5] == "yes"
    assert runc[("Write to /tmp and the root filesystem (python)", "writable root")][5] == "yes"
    learned = text.split("## What I learned", 1)[1]
    assert f"The timeout holds under {base}" in learned
    assert f"{base} and gVisor (runsc) gave the same verdict in " in learned
    assert "| System calls | " in text and f"(under {base}; not under gVisor (runsc): a kernel of its own" in text
    assert "With the network on: “interfaces: lo, eth0”" in learned
    # Anything unexpected is said so in what I learned too, never left out.
    for row in rows:
        if row[5] == "**unexpected**":
            assert f"**Not as expected**: {row[0]} · {row[1]}" in learned


def test_an_experiment_that_misbehaves_is_reported_as_unexpected():
    loop = next(e for e in load_experiments() if e.file == "infinite_loop.py")
    limits = Limits(runtime="runc")
    finished = RunResult(verdict=Verdict.OK, exit_code=0, signal=None, kill_reason="Finished normally",
                         output="done\n", error="", duration_s=0.5, peak_memory_bytes=1 << 20, truncated=False,
                         language="python", runtime="runc", limits=limits)
    case = Case(loop, limits, result=finished, source=loop.source())
    from runner import EngineInfo

    text = experiments_markdown(Report([case], EngineInfo(product="Docker", name="Docker 99", cpus=2,
                                                          memory_bytes=1 << 30)))
    assert "**0 of 1 runs behaved as expected.**" in text
    assert "| Infinite loop (python) | runc | default | OK | Finished normally | **unexpected** |" in text
    assert ("- **Unexpected**: index.toml expects TIMEOUT, showing “still spinning after 1 s”; the run ended OK "
            "and did not show “still spinning after 1 s”") in text
    assert "**Not as expected**: Infinite loop (python) · runc ended OK" in text
    # It worked where it should have been stopped: it is listed under what worked, flagged.
    assert text.index("### Infinite loop") < text.index("## What failed or was prevented")
    assert "The timeout holds" not in text


def test_the_walls_an_experiment_must_hit_are_checked_where_they_can_be_seen():
    from runner import Blocked, EngineInfo

    bomb = next(e for e in load_experiments() if e.file == "fork_bomb.py")
    output = "fork refused after 62 children: Resource temporarily unavailable\nthe PIDs limit held\n"

    def case(runtime: str, blocked, watched) -> Case:
        limits = Limits(runtime=runtime)
        result = RunResult(verdict=Verdict.OK, exit_code=0, signal=None, kill_reason="Finished normally",
                           output=output, error="", duration_s=2.1, peak_memory_bytes=9 << 20, truncated=False,
                           language="python", runtime=runtime, limits=limits, blocked=blocked, walls_watched=watched)
        return Case(bomb, limits, result=result, source=bomb.source())

    hit = case("runc", (Blocked("process", "fork", "", "EAGAIN", True, 0.1, 1),), ("process",))
    missed = case("crun", (), ("process",))
    unseen = case("runsc", None, ())
    assert (hit.as_expected, missed.as_expected, unseen.as_expected) == (True, False, True)
    text = experiments_markdown(Report([hit, missed, unseen], EngineInfo(product="Docker", name="Docker 99", cpus=2,
                                                                         memory_bytes=1 << 30)))
    assert "- **Walls hit**: `process  fork  blocked (EAGAIN): the PID limit of 64`" in text
    assert "and did not hit the process fork wall" in text
    assert "- **Walls hit**: walls not observable under runsc" in text
    # Each other runtime against the baseline: the one a run that names none would get.
    assert "| Runtimes | crun (a run's default here: the others are compared with it), runc, gVisor (runsc) |" in text
    learned = text.split("## What I learned", 1)[1]
    assert "crun and runc gave the same verdict in all 1 experiments that ran under both." in learned
    assert "crun and gVisor (runsc) gave the same verdict in all 1 experiments that ran under both." in learned


def test_the_report_compares_the_default_runtime_with_those_of_a_kernel_of_their_own():
    from runner import EngineInfo

    def engine(*names: str) -> EngineInfo:
        return EngineInfo(product="Docker", name="Docker 99", cpus=2, memory_bytes=1 << 30,
                          runtimes={name: [] for name in names})

    assert engine_runtimes(engine("runc", "runsc", "crun")) == ["runsc", "crun"]
    assert engine_runtimes(engine("runc", "runsc")) == ["runc", "runsc"]
    assert engine_runtimes(engine("runc", "runsc", "crun"), ["auto"]) == ["crun"]
    assert engine_runtimes(engine("runc", "runsc", "crun"), ["all"]) == ["runc", "runsc", "crun"]


def test_the_plan_covers_both_runtimes_and_the_toggles():
    cases = plan(seed_experiments(), ["runc", "runsc"])
    assert len(cases) == 2 * (len(SEEDS) + 2)               # network on, writable root
    assert {c.variant for c in cases if c.experiment.file == "write_files.py"} == {"read-only root",
                                                                                    "writable root"}


def test_the_report_module_does_not_import_textual():
    code = "import sys, tui_sandbox.report; sys.exit(1 if 'textual' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def record(history: History, n: int, source: str, result: RunResult, when: float) -> None:
    rec = RunRecord.of_result(id=f"r{n}", user=os.environ.get("USER") or _user(), origin="app", source=source,
                              result=result, queued_at=when, started_at=when)
    history.add(rec.__class__(**{**rec.to_dict(), "finished_at": when}))


def _user() -> str:
    from tui_sandbox.history.records import user_name

    return user_name()


def test_from_history_reports_my_own_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store = History()
    source = "import socket\nprint(socket.gethostbyname('localhost'))\n"

    def result(verdict, limits, output="", error="", reason="Finished normally", exit_code=0):
        return RunResult(verdict=verdict, exit_code=exit_code, signal=None, kill_reason=reason, output=output,
                         error=error, duration_s=0.1, peak_memory_bytes=5 << 20, truncated=False,
                         language="python", runtime="runc", limits=limits)

    record(store, 1, "while True: pass\n", result(Verdict.TIMEOUT, Limits(timeout=2), reason="Timed out after 2 s "
                                                                                               "and was killed"), 100)
    record(store, 2, source, result(Verdict.ERROR, Limits(), error="socket.gaierror: [Errno -3] Temporary failure\n",
                                    reason="Exited with status 1", exit_code=1), 200)
    record(store, 3, source, result(Verdict.OK, Limits(network=True), output="127.0.0.1\n"), 201)
    store.close()
    done = subprocess.run([*CLI, "report", "--from-history", "-o", "MY.md"], cwd=tmp_path, env=env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "MY.md").read_text()
    positions = [text.index(section) for section in SECTIONS[1:]]
    assert positions == sorted(positions)
    worked, failed = text.split("## What failed or was prevented")
    assert "**OK**" in worked and "127.0.0.1" in worked
    assert "**TIMEOUT**" in failed and "**ERROR (exit 1)**" in failed
    learned = text.split("## What I learned", 1)[1]
    assert "1 run hit the timeout: Timed out after 2 s and was killed." in learned
    # The same program with the network off, then on (as F6 makes them): what changed.
    assert ("- “import socket”: With the network on it ends OK; with the network off, ERROR (exit 1): "
            "socket.gaierror: [Errno -3] Temporary failure.") in learned


async def test_the_apps_command_writes_the_report_and_shows_it(tmp_path, monkeypatch, sandbox):
    from tui_sandbox.app.app import SandboxApp
    from tui_sandbox.app.screens.report import ReportScreen

    monkeypatch.chdir(tmp_path)
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await palette(pilot, "run the experiments")
        assert app.screen.query_one("#save-name").value == "REPORT.md"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "REPORT " in app.main_screen.banner.plain, 30)      # "REPORT 3/20": progress
        await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen), 120)
        text = (tmp_path / "REPORT.md").read_text()
        assert all(section in text for section in SECTIONS)
        await pilot.press("escape")
        assert "written to REPORT.md" in app.main_screen.banner.plain


async def test_quitting_while_the_report_runs_stops_its_containers(tmp_path, monkeypatch, sandbox):
    from runner.docker.cleanup import LABEL, OWNER_LABEL
    from tui_sandbox.app.app import SandboxApp

    monkeypatch.chdir(tmp_path)
    app = SandboxApp(sandbox=sandbox)
    started = time.monotonic()
    async with app.run_test(size=(100, 30)) as pilot:
        app.main_screen.report.start(tmp_path / "REPORT.md", from_history=False)
        await wait_until(pilot, lambda: "REPORT " in app.main_screen.banner.plain, 30)      # runs are going
        await pilot.press("ctrl+q")
    assert time.monotonic() - started < 40          # the 10 s loops were stopped, not waited for
    assert sandbox.wait_for_cleanup(30)
    mine = [c for c in sandbox.backend.api.containers(all=True, filters={"label": LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL) == sandbox.backend.owner]
    assert mine == []
    assert not (tmp_path / "REPORT.md").exists()     # a stopped report is not written as if whole
