"""Record the code a class's apps run into tui_sandbox/forkserver/hot_code.txt.

The fork server copies that code together before its first fork (forkserver/hot_code.py),
so each app's writes into the code it runs copy few pages. Run this after upgrading
Textual, Rich or Python, or after a large change to the app, and commit the file:

    .venv/bin/python scripts/record_hot_code.py

It teaches a short class as bench/classroom.py does (`serve --ssh` on loopback, students
over real SSH with a PTY at 100x30), with TUI_SANDBOX_RECORD_CODE set so that every app
writes down what it ran: each student logs in, types a program, runs it, flips the network and
the read-only root and runs again, opens and closes the history, the limits' input and the
experiments, then quits with ctrl+q and y (an app writes what it ran at its exit). Needs the
Docker engine and the images (scripts/setup.sh).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

import classroom  # noqa: E402 - bench/classroom.py: its server and its students

from tui_sandbox.forkserver.hot_code import HOT_CODE, RECORD_VARIABLE  # noqa: E402

STUDENTS = 3
KEYS_AFTER_A_RUN = (b"\x1bOQ", b"\x1bOR")             # F2 (network), F3 (read-only root), as xterm sends them
DIALOGS = (b"\x1b[18~", b"\x1b[19~", b"\x1bOS")      # F7 history, F8 input, F4 experiments: each, then escape


async def session(student: classroom.Student, port: int) -> None:
    await student.log_in(port, 90)
    await student.run_once(60)
    for key in KEYS_AFTER_A_RUN:
        student.type(key)
        await asyncio.sleep(0.5)
    await student.run_once(60)
    for key in DIALOGS:
        student.type(key)
        await asyncio.sleep(1.0)
        student.type(b"\x1b")
        await asyncio.sleep(1.0)
    await student.run_once(60)
    student.type(b"\x11")                    # ctrl+q, and yes to "not saved, quit anyway?"
    await student.wait_until(lambda text: "Quit anyway" in text, 30, "the quit question")
    student.type(b"y")                       # the app exits, and writes what it ran
    try:
        await asyncio.wait_for(asyncio.shield(student.reader), 30)
    except asyncio.TimeoutError:
        raise SystemExit(f"{student.name}: the app did not quit on ctrl+q; its screen:\n{student.text}") from None


async def teach(port: int) -> None:
    students = [classroom.Student(f"s{i:02d}") for i in range(1, STUDENTS + 1)]
    try:
        await asyncio.gather(*[session(s, port) for s in students])
    finally:
        for s in students:
            s.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="tui-sandbox-record-") as tmp:
        recorded = Path(tmp) / "ran"
        recorded.mkdir()
        classroom.os.environ[RECORD_VARIABLE] = str(recorded)
        server, _http, ssh, _web, _lines = classroom.start_server(Path(tmp), STUDENTS)
        try:
            asyncio.run(teach(ssh))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(90)
        lines = {line for app in recorded.glob("*.txt") for line in app.read_text().splitlines()}
    if len(lines) < 1000:
        print(f"only {len(lines)} code objects recorded: not written", file=sys.stderr)
        return 1
    HOT_CODE.write_text("".join(f"{line}\n" for line in sorted(lines)))
    print(f"{len(lines)} code objects the apps ran, written to {HOT_CODE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
