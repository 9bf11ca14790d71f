"""One student's app in a browser tab: textual-serve's AppService (pinned: >=1.1,<1.2),
started as the student's own and stopped for sure.

textual-serve starts the app through a shell, with the server's whole environment, and
stops reading its output once the tab has gone; here the app gets its argv without a
shell, a clean environment (admission.take_seat), the student's folder as its working
directory and a session of its own (for signals), as a fork of the class's fork server
(forks.py) on pipes made here, or a plain process. Closing the tab ends the app:
textual-serve sends it a "quit" packet (Textual's WebDriver posts ExitApp: the app cancels
its run and removes its containers); then, after STOP_GRACE_S, SIGTERM (the WebDriver's
own clean exit), then SIGKILL. textual-serve alone would wait for ever on an app that does
not quit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from importlib.metadata import version
from typing import Awaitable, Mapping

from textual_serve.app_service import AppService

from .forks import ForkServer

log = logging.getLogger("tui_sandbox.classroom")

STOP_GRACE_S = 10.0          # after "quit": the app cancels its run and removes its containers
TERM_GRACE_S = 3.0           # after SIGTERM, then SIGKILL


class StudentApp(AppService):
    """textual-serve's AppService, started as the student's own: argv without a shell, a
    clean environment, the student's folder, a session of its own (for signals); stopped
    for sure; input time kept for the idle timeout."""

    def __init__(self, *, argv: list[str], env: Mapping[str, str], cwd: str, forks: ForkServer | None = None,
                 **kwargs) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.forks = forks                 # the class's fork server, else a plain process
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.last_input = time.monotonic()
        self.forced = False
        self.client_gone = False

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**self.env,
                "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver", "TEXTUAL_FPS": "60",
                "TEXTUAL_COLOR_SYSTEM": "truecolor", "COLORTERM": "truecolor", "TERM_PROGRAM": "textual",
                "TERM_PROGRAM_VERSION": version("textual-serve"),
                "COLUMNS": str(width), "ROWS": str(height)}

    async def _open_app_process(self, width: int = 80, height: int = 24):
        env = self._build_environment(width, height)

        def plain() -> Awaitable[asyncio.subprocess.Process]:
            return asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=env, cwd=self.cwd, start_new_session=True)

        if self.forks is None:
            process = await plain()
        else:
            process = await self.forks.spawn_on_pipes_or(plain, self.argv, env, self.cwd)
        self._process = process
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def send_bytes(self, data: bytes) -> bool:
        self.last_input = time.monotonic()
        return await super().send_bytes(data)

    async def on_data(self, payload: bytes) -> None:
        # Once the tab is gone, the app's output is still read (and dropped): an app blocked
        # on a full pipe could not quit. textual-serve would stop reading.
        if self.client_gone:
            return
        try:
            await self.remote_write_bytes(payload)
        except Exception:  # noqa: BLE001 - the websocket closed under us
            self.client_gone = True

    def signal(self, sig: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, sig)

    async def stop(self) -> None:
        """"quit" (a clean exit), then SIGTERM, then SIGKILL: the app never outlives its tab."""
        if self._task is None:
            return
        task, self._task = self._task, None
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        process = self._process
        assert process is not None
        if process.returncode is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.send_meta({"type": "quit"}), 2.0)
        for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, TERM_GRACE_S), (None, 5.0)):
            try:
                await asyncio.wait_for(asyncio.shield(process.wait()), grace)
                break
            except asyncio.TimeoutError:
                if sig is None:
                    break
                log.warning("the app (pid %d) did not quit: %s", process.pid, signal.Signals(sig).name)
                self.forced = True
                self.signal(sig)
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, 5.0)
        if not task.done():
            task.cancel()

