"""Screenshots of the real app, driven against the real engine, for the README and for
checking the layout by eye: SVGs in screenshots/, with PNGs beside them (cairosvg).

    .venv/bin/python scripts/screenshots.py          # needs Docker and the runner images
    .venv/bin/python scripts/screenshots.py walls    # only the shots named
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runner import Limits, Sandbox  # noqa: E402
from tui_sandbox.app.app import SandboxApp  # noqa: E402

OUT = ROOT / "screenshots"
ONLY: set[str] = set()          # the shots named on the command line; none named: all
SIZES = [(100, 30), (80, 24)]


def to_png(svg: Path) -> None:
    import cairosvg

    # The SVG asks for Fira Code from the web, which cairosvg cannot fetch; its fallback
    # lacks box-drawing glyphs of the right width. DejaVu Sans Mono has them all.
    text = svg.read_text(encoding="utf-8").replace('"Fira Code"', '"DejaVu Sans Mono"')
    text = text.replace("Fira Code, monospace", "DejaVu Sans Mono, monospace")
    cairosvg.svg2png(bytestring=text.encode("utf-8"), write_to=str(svg.with_suffix(".png")))


async def wait_until(pilot, condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.1)


async def shoot(name: str, size: tuple[int, int], sandbox: Sandbox, experiment: str | None = None,
                limits: Limits | None = None, run: bool = False, keys: list[str] = (),
                theme: str | None = None, source: str | None = None, until=None) -> None:
    if ONLY and name not in ONLY:
        return
    app = SandboxApp(sandbox=sandbox, limits=limits)
    if theme:
        app.theme = theme
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        app.query_one("#editor").cursor_blink = False
        if experiment:
            app.main_screen.load_experiment(next(e for e in app.experiments if e.file == experiment))
            await pilot.pause()
        if source:
            app.editor.load(source)
        if run:
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: not app.runs.running)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.1)
        if until is not None:
            await wait_until(pilot, lambda: until(app))
        await pilot.pause(0.3)
        filename = f"{name}-{size[0]}x{size[1]}.svg"
        app.save_screenshot(path=str(OUT), filename=filename)
    to_png(OUT / filename)
    print("wrote", OUT / filename)


ASK = 'name = input("Your name? ")\nprint("Hello,", name)\nage = input("Your age? ")\n'


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    # Never touch the user's own settings (the remembered theme) or history.
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="tui-sandbox-shots-")
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="tui-sandbox-shots-")
    sandbox = Sandbox()
    for size in SIZES:
        await shoot("main", size, sandbox, experiment="hello.py", run=True)
        await shoot("timeout", size, sandbox, experiment="infinite_loop.py", run=True,
                    limits=Limits(timeout=3))
        await shoot("oom", size, sandbox, experiment="memory_bomb.py", run=True)
        await shoot("experiments", size, sandbox, keys=["f4", "down", "down", "down"])
        # A program that reads its input: answered once, waiting for the second answer.
        await shoot("input", size, sandbox, source=ASK, keys=["ctrl+r", *"Ada", "enter"],
                    until=lambda app: "WAITING FOR INPUT" in app.main_screen.banner.plain and "Your age?" in
                    app.main_screen.output_view.plain_text)
        await shoot("both-ways", size, sandbox, experiment="network.py", keys=["f6"],
                    until=lambda app: not app.runs.running and len(app.main_screen.both_ways.sides) == 2)
        await shoot("history", size, sandbox, keys=["f7", "enter"])
        # The fork bomb at 16 PIDs: the wall it hits, with its count, among its output.
        await shoot("walls", size, sandbox, experiment="fork_bomb.py", run=True, limits=Limits(pids=16))
        # The network check with the network off: the look-up and the connection it tries.
        await shoot("network-walls", size, sandbox, experiment="network.py", run=True)
    await shoot("projector", (100, 30), sandbox, experiment="memory_bomb.py", run=True, theme="projector")


if __name__ == "__main__":
    ONLY.update(sys.argv[1:])
    asyncio.run(main())
