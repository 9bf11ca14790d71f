#!/usr/bin/env python3
"""A classroom under load: `tui-sandbox serve --ssh` with simulated students over real SSH.

Each student is an asyncssh client with a PTY (100x30, --size) and a pyte screen, as in
tests/classroom/test_ssh.py. With --web-half, every second student comes in by the browser
front instead (serve --web): signed in with the class code, then on the page's websocket,
speaking what the page's script speaks (textual-serve's stdin and resize messages) and
feeding what the app draws to the same pyte screen. Not a Chromium per student: fifteen on
two cores would measure Chromium; the app's side, what is measured, is the same. Students
connect in small waves (so that logins and the apps' start-up do not time out); each types
one short program once, then, once the whole class is in, re-runs it with ctrl+r `--runs`
times, every `--every` seconds (with jitter). The program prints the student's name, 6 * 7
and the time in ms, so a result is correct only if it shows this student's name, 42, and a
time after the keypress (its own run, not an earlier one), under an OK banner.

Printed: sessions connected, runs done, wrong results, the time from the ctrl+r keypress to
the verdict on the student's screen (median, p90), the apps' CPU seconds per run, memory
per session (RSS and PSS of each app's process tree, from /proc/PID/smaps_rollup: PSS is
the fair figure for processes that share pages, as forks of one fork server do), the
server's own memory and the fork server's, the total. Then the server is stopped (SIGTERM)
and no container of the server or of any of its apps may be left, nor any of its processes.

The class is taught twice by default, one after the other: with the fork server (each app a
fork of one pre-imported process: serve's default) and without (--no-fork-server: each app
a process of its own, as before), so the baseline is measured in the same run; a last line
compares their memory. --modes fork or --modes plain runs one.

    .venv/bin/python bench/classroom.py [--students 30] [--runs 3] [--every 5] [--wave 5] [--modes fork,plain]
                                        [--size 100x30] [--web-half]

Exit status 1 when a student failed to connect or to run, a result was wrong, or a
container was left."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pyte

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from latency import percentile  # noqa: E402
from service import mib, rss_pss  # noqa: E402

from runner.docker.backend import connect  # noqa: E402
from runner.docker.cleanup import LABEL, OWNER_LABEL  # noqa: E402
from tui_sandbox.classroom.sshlib import asyncssh  # noqa: E402  (asyncssh, without cryptography's DSA warning)

CODE = "bench-class-7"
SIZE = (100, 30)        # the students' terminal, columns x rows (--size)
IDLE_WINDOW_S = 5.0
SETTLE_S = 3.0
IN_PROGRESS = ("ctrl+k kills it", "QUEUED", "WAITING FOR INPUT")     # the banner while a run goes
BAD_BANNERS = ("ERROR", "TIMEOUT", "CANNOT RUN", "OOM", "CANCELLED", "OUTPUT LIMIT", "SIGNAL (")


def program(name: str) -> str:
    # Two short lines: the editor is narrow at 80x24.
    return f"import time\rprint('{name}',6*7,time.time_ns()//10**6)"


# --- the server -----------------------------------------------------------------------------


def start_server(tmp: Path, max_sessions: int, fork_server: bool = True, web: bool = False,
                 max_running: int | None = None) -> tuple[subprocess.Popen, int, int, int | None, list[str]]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config")}
    log = open(tmp / "server.log", "wb")   # noqa: SIM115 - the server's stderr, for a failure's report
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "tui-sandbox"), "serve", "--port", "0", "--ssh", "0",
         "--ssh-host", "127.0.0.1", "--class-code", CODE, "--max-sessions", str(max_sessions),
         *([] if fork_server else ["--no-fork-server"]), *(["--web", "0"] if web else []),
         *(["--max-running", str(max_running)] if max_running else [])],
        stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
    lines: list[str] = []
    got_two = threading.Event()

    def announced() -> bool:      # the browser front comes last, its line ending with its cap
        return len(lines) >= 2 and (not web or ("browser on" in "".join(lines) and " at once" in lines[-1]))

    def drain() -> None:          # keep reading, so the pipe never fills
        for raw in server.stdout:
            lines.append(raw.decode(errors="replace"))
            if announced():
                got_two.set()
        got_two.set()

    threading.Thread(target=drain, daemon=True).start()
    if not got_two.wait(60) or not announced():
        server.kill()
        server.wait()
        raise SystemExit(f"the server did not start: {lines} {(tmp / 'server.log').read_text()[-2000:]}")
    http = re.search(r"http://127\.0\.0\.1:(\d+)", lines[0])
    ssh = re.search(r"on port (\d+)", lines[1])
    browser = re.search(r"browser on http://127\.0\.0\.1:(\d+)/", "".join(lines))
    if not (http and ssh) or (web and not browser):
        server.kill()
        server.wait()
        raise SystemExit(f"cannot read the server's ports: {lines}")
    return server, int(http.group(1)), int(ssh.group(1)), int(browser.group(1)) if browser else None, lines


def containers_of(api, pids: set[int]) -> list[dict]:
    marks = [f":{pid}:" for pid in pids]
    return [c for c in api.containers(all=True, filters={"label": LABEL})
            if any(mark in (c.get("Labels") or {}).get(OWNER_LABEL, "") for mark in marks)]


# --- memory, from /proc -----------------------------------------------------------------------


def children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def subtree(pid: int, tree: dict[int, list[int]]) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, []))
    return out


def cpu_seconds(pids) -> float:
    """utime + stime (with the waited-for children's) of these processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def engine_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() in ("dockerd", "containerd"):
                    pids.append(int(entry))
        except (OSError, ValueError):
            pass
    return pids


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Cpu:
    wall: float = 0.0
    busy: float = 0.0              # the machine's, 0..1 of all CPUs
    server: float = 0.0            # CPU seconds
    apps: float = 0.0
    engine: float = 0.0
    bench: float = 0.0             # this process: the students' ssh clients and pyte screens
    idle_apps: float = 0.0         # the apps' CPU seconds over IDLE_WINDOW_S, all in, no run
    idle_bytes: int = 0            # what all the apps sent their students over IDLE_WINDOW_S


@dataclass
class Memory:
    server_rss: int = 0
    server_pss: int | None = None
    forks_rss: int = 0                 # the fork server (0: none)
    forks_pss: int | None = None
    sessions: list[tuple[int, int | None]] = field(default_factory=list)   # per app tree: (rss, pss)

    @property
    def rss(self) -> int:
        return self.server_rss + self.forks_rss + sum(r for r, _ in self.sessions)

    @property
    def pss(self) -> int | None:
        """Everything: the server, the fork server and every app; None if one is unreadable."""
        parts = [self.server_pss, self.forks_pss if self.forks_rss else 0, *(p for _, p in self.sessions)]
        return None if any(p is None for p in parts) else sum(parts)


def is_fork_server(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[1:3] == [b"-m", b"tui_sandbox.forkserver"]
    except OSError:
        return False


def app_roots(server_pid: int, tree: dict[int, list[int]]) -> tuple[list[int], int | None]:
    """(each student's app, the fork server or None): the apps are the server's children,
    or its fork server's."""
    roots, forks = [], None
    for child in tree.get(server_pid, []):
        if is_fork_server(child):
            forks = child
            roots.extend(tree.get(child, []))
        else:
            roots.append(child)
    return roots, forks


def measure(server_pid: int) -> tuple[Memory, set[int]]:
    """The server's own memory, the fork server's, and each student's app's with its
    descendants; and every app pid seen under the server."""
    tree = children()
    memory = Memory()
    memory.server_rss, memory.server_pss = rss_pss(server_pid)
    roots, forks = app_roots(server_pid, tree)
    if forks is not None:
        memory.forks_rss, memory.forks_pss = rss_pss(forks)
    seen: set[int] = set()
    for root in roots:
        pids = subtree(root, tree)
        seen.update(pids)
        figures = [rss_pss(p) for p in pids]
        rss = sum(r for r, _ in figures)
        pss = None if any(p is None for _, p in figures) else sum(p for _, p in figures)
        memory.sessions.append((rss, pss))
    return memory, seen


# --- a student ----------------------------------------------------------------------------------


class Student:
    """One student's ssh client with a screen: what the app draws, as a terminal shows it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.conn: asyncssh.SSHClientConnection | None = None
        self.process = None
        self.screen = pyte.Screen(*SIZE)
        self.stream = pyte.ByteStream(self.screen)
        self.changed = asyncio.Event()
        self.reader: asyncio.Task | None = None
        self.latencies: list[float] = []
        self.timings: list[tuple[float, float]] = []   # each correct run: (keypress, verdict seen), Unix time
        self.wrong: list[str] = []
        self.failure: str | None = None
        self.ready = False            # the app is up and the program typed
        self.port: int | None = None   # its front's, when not the SSH front's
        self.received = 0             # bytes from the app

    async def connect(self, port: int) -> None:
        self.conn = await asyncssh.connect("127.0.0.1", port, username=self.name, password=CODE,
                                           known_hosts=None, login_timeout=90)
        self.process = await self.conn.create_process(term_type="xterm-256color", term_size=SIZE, encoding=None)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async def pump(stream, screen: bool) -> None:
            while True:
                data = await stream.read(65536)
                if not data:
                    return
                if screen:
                    self._screen_bytes(data)
                else:
                    self.received += len(data)

        await asyncio.gather(pump(self.process.stdout, True), pump(self.process.stderr, False),
                             return_exceptions=True)
        self.changed.set()

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_until(self, condition, timeout: float, what: str) -> None:
        """Checked on every change of the screen: the moment it holds is seen at once."""
        deadline = time.monotonic() + timeout
        while not condition(self.text):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: {what} not within {timeout:g} s; the screen:\n{self.text}")
            if self.reader is not None and self.reader.done():
                raise ConnectionError(f"{self.name}: the session ended; the screen:\n{self.text}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
            except asyncio.TimeoutError:
                pass

    def type(self, data: bytes) -> None:
        self.process.stdin.write(data)

    def _screen_bytes(self, data: bytes) -> None:
        self.received += len(data)
        self.stream.feed(data)
        self.changed.set()

    async def type_slowly(self, text: str) -> None:
        for start in range(0, len(text), 8):
            self.type(text[start:start + 8].encode())
            await asyncio.sleep(0.01)

    async def log_in(self, port: int, timeout: float) -> None:
        """port: the SSH front's (a WebStudent's: the browser front's)."""
        await asyncio.wait_for(self.connect(port), timeout)
        await self.wait_until(lambda t: all(w in t for w in ("tui-sandbox", "Run", "Limits")), timeout,
                              "the app")
        await self.type_slowly(program(self.name))
        tail = program(self.name)[-12:]
        await self.wait_until(lambda t: tail in t, 30, "the program in the editor")
        self.ready = True

    async def run_once(self, timeout: float) -> None:
        pattern = re.compile(rf"(?<![\w']){re.escape(self.name)} 42 (\d{{13}})\b")
        others = re.compile(r"(?<![\w'])(s\d+) 42 \d{13}")
        pressed = time.time()
        pressed_ms = int(pressed * 1000)
        began = time.perf_counter()
        self.type(b"\x12")                       # ctrl+r

        started = False

        def fresh(text: str) -> bool:
            """A verdict of this run: after its RUNNING (or QUEUED) banner, or with its output."""
            nonlocal started
            if any(mark in text for mark in IN_PROGRESS):
                started = True
                return False
            if any(f" {word}" in text for word in BAD_BANNERS):
                return True
            ours = [int(ms) for ms in pattern.findall(text)]
            return " OK " in text and (started or any(ms >= pressed_ms for ms in ours))

        def correct(text: str) -> bool:
            ours = [int(ms) for ms in pattern.findall(text)]
            return (" OK " in text and not any(mark in text for mark in IN_PROGRESS)
                    and any(ms >= pressed_ms for ms in ours))

        await self.wait_until(fresh, timeout, "a fresh verdict")
        if not correct(self.text):
            # A frame can arrive in pieces (the banner drawn, the output not yet): let the
            # screen settle before calling the result wrong.
            try:
                await self.wait_until(correct, SETTLE_S, "this run's output")
            except (TimeoutError, ConnectionError):
                pass
        took = time.perf_counter() - began
        text = self.text
        now_ms = time.time_ns() // 10**6
        ours = [int(ms) for ms in pattern.findall(text)]
        strangers = {name for name in others.findall(text) if name != self.name}
        bad = [word for word in BAD_BANNERS if f" {word}" in text]
        if bad or strangers or not any(pressed_ms <= ms <= now_ms for ms in ours):
            self.wrong.append(f"{self.name}: {bad or strangers or 'no output of this run'}\n{text}")
        else:
            self.latencies.append(took)
            self.timings.append((pressed, time.time()))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class WebStudent(Student):
    """A student in the browser: the sign-in form, then the page's websocket, as its script
    uses it (["stdin", text], ["resize", {...}]), the app's bytes on the same pyte screen."""

    async def connect(self, port: int) -> None:
        base = f"http://127.0.0.1:{port}"
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with self.session.post(f"{base}/signin", data={"name": self.name, "code": CODE},
                                     allow_redirects=False) as response:
            if response.status != 303:
                raise ConnectionError(f"{self.name}: sign-in answered {response.status}")
        self.ws = await self.session.ws_connect(f"{base}/ws?width={SIZE[0]}&height={SIZE[1]}",
                                                headers={"Origin": base})
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self._screen_bytes(message.data)
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                break
        self.changed.set()

    def type(self, data: bytes) -> None:
        asyncio.ensure_future(self.ws.send_str(json.dumps(["stdin", data.decode()])))

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.closing = asyncio.ensure_future(self._close())

    async def _close(self) -> None:
        await self.ws.close()
        await self.session.close()


# --- the class ------------------------------------------------------------------------------------


async def lesson(args, students: list[Student], ssh_port: int, server_pid: int,
                 seen: set[int], cpu: Cpu) -> tuple[Memory, Memory, float]:
    try:
        return await asyncio.wait_for(_lesson(args, students, ssh_port, server_pid, seen, cpu), args.budget)
    finally:
        for s in students:
            s.close()
        await asyncio.gather(*[asyncio.wait_for(s.conn.wait_closed(), 10) for s in students if s.conn],
                             *[asyncio.wait_for(s.closing, 10) for s in students if getattr(s, "closing", None)],
                             return_exceptions=True)


async def _lesson(args, students: list[Student], ssh_port: int, server_pid: int,
                  seen: set[int], cpu: Cpu) -> tuple[Memory, Memory, float]:
    login_began = time.perf_counter()
    for start in range(0, len(students), args.wave):
        wave = students[start:start + args.wave]

        async def enter(s: Student) -> None:
            try:
                await s.log_in(s.port or ssh_port, args.login_timeout)
            except Exception as exc:  # noqa: BLE001 - one student's failure is theirs alone
                s.failure = f"login: {type(exc).__name__}: {exc}"

        await asyncio.gather(*[enter(s) for s in wave])
        seen.update(measure(server_pid)[1])
    login_s = time.perf_counter() - login_began
    idle_memory, pids = measure(server_pid)        # everyone in, nothing run yet
    seen.update(pids)

    peak = Memory()
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            now, pids = measure(server_pid)
            seen.update(pids)
            if now.rss > peak.rss:
                peak = now
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except asyncio.TimeoutError:
                pass

    tree = children()
    app_pids = [p for root in app_roots(server_pid, tree)[0] for p in subtree(root, tree)]
    idle_before, bytes_before = cpu_seconds(app_pids), sum(s.received for s in students)
    await asyncio.sleep(IDLE_WINDOW_S)
    cpu.idle_apps = cpu_seconds(app_pids) - idle_before
    cpu.idle_bytes = sum(s.received for s in students) - bytes_before
    sampler = asyncio.create_task(sample())
    engine = engine_pids()
    before = (time.perf_counter(), machine_busy(), cpu_seconds([server_pid]), cpu_seconds(app_pids),
              cpu_seconds(engine), time.process_time())

    async def work(s: Student) -> None:
        if not s.ready:
            return
        try:
            for _ in range(args.runs):
                await asyncio.sleep(args.every * random.uniform(0.5, 1.5))
                await s.run_once(args.run_timeout)
        except Exception as exc:  # noqa: BLE001
            s.failure = f"run: {type(exc).__name__}: {exc}"

    await asyncio.gather(*[work(s) for s in students])
    after = (time.perf_counter(), machine_busy(), cpu_seconds([server_pid]), cpu_seconds(app_pids),
             cpu_seconds(engine), time.process_time())
    stop.set()
    await sampler
    cpu.wall = after[0] - before[0]
    cpu.busy = (after[1][0] - before[1][0]) / max(1, after[1][1] - before[1][1])
    cpu.server, cpu.apps, cpu.engine = after[2] - before[2], after[3] - before[3], after[4] - before[4]
    cpu.bench = after[5] - before[5]
    return idle_memory, peak, login_s


def phases(history: Path, students: list[Student]) -> str:
    """Where each correct run's time went, from the server's history (its queued_at,
    started_at and finished_at) beside the student's keypress and verdict: one line."""
    if not history.exists():
        return "where the time went: no history"
    with sqlite3.connect(history) as db:
        rows = db.execute("SELECT user, queued_at, started_at, finished_at FROM runs").fetchall()
    by_user: dict[str, list[tuple]] = {}
    for user, *times in rows:
        by_user.setdefault(user, []).append(tuple(times))
    parts: dict[str, list[float]] = {"keypress to the queue": [], "in the queue": [],
                                     "in the engine": [], "verdict to the screen": []}
    for s in students:
        for pressed, seen in s.timings:
            mine = [t for t in by_user.get(s.name, ()) if t[1] and pressed - 0.05 <= t[0] <= seen]
            if not mine:
                continue
            queued, started, finished = min(mine)     # the first run queued after the keypress
            spans = (queued - pressed, started - queued, finished - started, seen - finished)
            for name, span in zip(parts, spans, strict=True):
                parts[name].append(max(0.0, span))
    if not parts["in the engine"]:
        return "where the time went: no run found in the history"
    return "where the time went (median / p90): " + ", ".join(
        f"{name} {statistics.median(v) * 1000:.0f} / {percentile(v, 0.9) * 1000:.0f} ms"
        for name, v in parts.items() if v)


def report(args, students: list[Student], idle: Memory, peak: Memory, login_s: float) -> bool:
    connected = [s for s in students if s.ready]
    latencies = [t for s in students for t in s.latencies]
    wrong = [w for s in students for w in s.wrong]
    failed = [s for s in students if s.failure]
    print(f"students {len(students)} (waves of {args.wave}), sessions connected {len(connected)} "
          f"in {login_s:.1f} s, failed {len(failed)}")
    print(f"runs done {len(latencies) + len(wrong)} of {len(students) * args.runs} "
          f"(every {args.every:g} s ±50 %), correct {len(latencies)}, wrong results {len(wrong)}")
    if latencies:
        print(f"keypress to verdict on screen: {statistics.median(latencies) * 1000:.0f} ms median, "
              f"{percentile(latencies, 0.9) * 1000:.0f} ms p90, {max(latencies) * 1000:.0f} ms max")
    if args.web_half:
        for front, kind in (("over SSH", Student), ("in the browser", WebStudent)):
            these = [t for s in students if type(s) is kind for t in s.latencies]
            if these:
                print(f"  {front}: {statistics.median(these) * 1000:.0f} ms median, "
                      f"{percentile(these, 0.9) * 1000:.0f} ms p90 ({len(these)} runs)")
    for title, memory in (("all in, before any run", idle), ("at the peak, during the runs", peak)):
        rss = [r for r, _ in memory.sessions]
        pss = [p for _, p in memory.sessions if p is not None]
        if not rss:
            continue
        print(f"memory, {title}: {len(rss)} sessions")
        print(f"  per session: RSS {mib(statistics.median(rss))} median ({mib(max(rss))} max), "
              f"PSS {mib(statistics.median(pss)) if pss else 'n/a'} median ({mib(max(pss)) if pss else 'n/a'} max)")
        print(f"  server: RSS {mib(memory.server_rss)}, PSS {mib(memory.server_pss)}"
              + (f"; fork server: RSS {mib(memory.forks_rss)}, PSS {mib(memory.forks_pss)}" if memory.forks_rss
                 else "; no fork server"))
        print(f"  total: RSS {mib(memory.rss)}, PSS {mib(memory.pss)}")
    for s in failed[:5]:
        print(f"FAILED {s.failure[:1500]}")
    for w in wrong[:5]:
        print(f"WRONG {w[:1500]}")
    return not failed and not wrong and len(connected) == len(students)


MODES = {"fork": "with the fork server", "plain": "without the fork server (--no-fork-server)"}


def teach(args, api, mode: str) -> tuple[bool, Memory]:
    """One class, start to end, in this mode: (all went well, its memory at the peak)."""
    print(f"== {MODES[mode]} ==")
    peak = Memory()
    with tempfile.TemporaryDirectory(prefix="tui-sandbox-bench-class-") as tmp:
        server, _http_port, ssh_port, web_port, _lines = start_server(
            Path(tmp), args.max_sessions or args.students, fork_server=mode == "fork", web=args.web_half,
            max_running=args.max_running)
        seen: set[int] = set()
        forks = None
        ok = False
        students = [(WebStudent if args.web_half and i % 2 == 0 else Student)(f"s{i:02d}")
                    for i in range(1, args.students + 1)]
        for s in students:
            if isinstance(s, WebStudent):
                s.port = web_port
        try:
            forks = app_roots(server.pid, children())[1]
            cpu = Cpu()
            idle, peak, login_s = asyncio.run(lesson(args, students, ssh_port, server.pid, seen, cpu))
            ok = report(args, students, idle, peak, login_s)
            print(phases(Path(tmp) / "data" / "tui-sandbox" / "history.sqlite3", students))
            runs = sum(len(s.latencies) + len(s.wrong) for s in students)
            print(f"CPU during the runs ({cpu.wall:.1f} s, {os.cpu_count()} CPUs): machine "
                  f"{cpu.busy * 100:.0f} % busy; CPU seconds: apps {cpu.apps:.1f}, server {cpu.server:.1f}, "
                  f"dockerd+containerd {cpu.engine:.1f}, this benchmark's clients {cpu.bench:.1f}; "
                  f"the apps' CPU seconds per run: {cpu.apps / max(1, runs):.3f}; "
                  f"the {args.students} apps idle: {cpu.idle_apps:.2f} CPU s and "
                  f"{cpu.idle_bytes / 1024:.0f} KiB sent in {IDLE_WINDOW_S:g} s")
        except asyncio.TimeoutError:
            print(f"the whole lesson did not end within {args.budget:.0f} s: what was measured so far")
            report(args, students, Memory(), Memory(), float("nan"))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(90)
            except subprocess.TimeoutExpired:
                print("the server did not stop within 90 s of SIGTERM: killed")
                server.kill()
                server.wait()
                ok = False
        left = containers_of(api, {server.pid} | seen)
        print(f"server stopped (status {server.returncode}); containers left of the server or its "
              f"{len(seen)} app processes: {len(left)}")
        alive = [pid for pid in seen | ({forks} if forks else set()) if os.path.exists(f"/proc/{pid}")]
        if alive:
            print(f"app processes (or the fork server) still alive: {alive}")
        # uvicorn raises the signal again once it has shut down: -SIGTERM is a clean stop.
        clean = server.returncode in (0, -signal.SIGTERM)
        if not clean:
            print((Path(tmp) / "server.log").read_text()[-2000:])
    return ok and not left and not alive and clean, peak


def compare(peaks: dict[str, Memory]) -> None:
    """One line: PSS per session and in all, with the fork server and without."""
    parts = []
    for mode, memory in peaks.items():
        pss = [p for _, p in memory.sessions if p is not None]
        if pss:
            parts.append(f"{MODES[mode].split(' (')[0]}: {mib(statistics.median(pss))} a session, "
                         f"{mib(memory.pss)} in all")
    if len(parts) == 2:
        print(f"PSS at the peak, {len(next(iter(peaks.values())).sessions)} sessions: " + "; ".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3, help="runs per student")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between a student's runs (±50 %%)")
    parser.add_argument("--wave", type=int, default=5, help="students connecting at once")
    parser.add_argument("--max-sessions", type=int, default=None, help="the server's (default: --students)")
    parser.add_argument("--max-running", type=int, default=None,
                        help="runs at once, the server's --max-running (default: the server's own)")
    parser.add_argument("--login-timeout", type=float, default=120, help="per student: connected, app drawn")
    parser.add_argument("--run-timeout", type=float, default=90, help="per run: keypress to verdict")
    parser.add_argument("--modes", default="fork,plain", help="fork, plain, or both (default: fork,plain)")
    parser.add_argument("--size", default="100x30", help="the students' terminal, COLSxROWS (default 100x30)")
    parser.add_argument("--web-half", action="store_true",
                        help="every second student in the browser front (serve --web), the others over SSH")
    args = parser.parse_args()
    global SIZE
    try:
        SIZE = tuple(int(n) for n in args.size.lower().split("x"))
        assert len(SIZE) == 2
    except (ValueError, AssertionError):
        parser.error("--size: COLSxROWS, e.g. 100x30")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes):
        parser.error("--modes: fork, plain, or fork,plain")
    # Everything is bounded: a stuck student fails alone, and the whole lesson has a budget.
    args.budget = args.login_timeout * (-(-args.students // args.wave)) + args.runs * (
        args.every * 1.5 + args.run_timeout) + 60

    api = connect()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    ok, peaks = True, {}
    for mode in modes:
        went_well, peaks[mode] = teach(args, api, mode)
        ok = ok and went_well
    compare(peaks)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
