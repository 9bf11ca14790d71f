"""What the app tests share: the terminal size, the experiments' folder, waiting for the
app, and reading the output pane and the verdict banner as text."""

from __future__ import annotations

import time
from pathlib import Path

from tui_sandbox.app.app import SandboxApp
from tui_sandbox.app.widgets.output import OutputView
from tui_sandbox.app.widgets.verdict import VerdictBanner

SIZE = (100, 30)
EXPERIMENTS = Path(__file__).resolve().parents[2] / "tui_sandbox" / "experiments"


async def wait_until(pilot, condition, timeout: float = 60) -> None:
    """Let the app run until condition() holds; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


def output(app: SandboxApp) -> str:
    return app.query_one(OutputView).plain_text


def banner(app: SandboxApp) -> str:
    return app.query_one(VerdictBanner).plain


async def palette(pilot, words: str) -> None:
    """Choose a command from the palette (ctrl+p) by typing its words, as a person would."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*words)
    await pilot.pause(0.5)
    await pilot.press("enter")
    await pilot.pause(0.3)
