"""The HTTP front's two ASGI middlewares, which answer before any route is reached: a
cap on the body's size, and a loopback server's answer only to loopback names."""

from __future__ import annotations

from typing import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runner.units import format_size

from .errors import error_response


class BodyLimit:
    """Refuse a body over max_bytes with 413, whether its size is announced or not.
    The body is read here (it is small by then) and handed on whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = dict(scope.get("headers") or []).get(b"content-length")
        if announced is not None and announced.isascii() and announced.isdigit() and int(announced) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":      # gone before the body came: nobody to answer
                return
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                first: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return first
            return await receive()       # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(scope.get("path", ""), 413,
                                  f"the body is over this server's cap of {format_size(self.max_bytes)}",
                                  "send a smaller program or input")
        await response(scope, receive, send)


class LoopbackHosts:
    """A server bound to loopback without tokens answers only to loopback names: a web
    page elsewhere cannot reach it through a name of its own that points here (DNS
    rebinding), so it cannot run code on this machine on its visitors' behalf."""

    def __init__(self, app: ASGIApp, names: Iterable[str]) -> None:
        self.app, self.names = app, {name.lower() for name in names}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
            name = host.rpartition("]")[0].lstrip("[") if host.startswith("[") else host.partition(":")[0]
            if host and name not in self.names:
                response = error_response(scope.get("path", ""), 400,
                                          f"this server answers only to {', '.join(sorted(self.names))}, "
                                          f"not {host!r}",
                                          "use http://127.0.0.1:PORT, or serve with --token to allow other names")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
