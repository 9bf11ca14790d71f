"""The HTTP front: the seeds' `POST /run`, its streaming form `POST /runs`, the runs'
history, languages and health, over the service's core.

    app = create_app(SandboxService(...), tokens={"s3cret": "ada"})   # token -> user name
    uvicorn.run(app)      # or `tui-sandbox serve`, which also stops runs first on SIGTERM

Its lifespan starts and stops the service. The app is made of routers: the runs
(runs.py), what the server is and has (info.py), the Piston, Judge0 and codapi endpoints
(piston/, judge0/, codapi.py) and the web page (web.py), sharing one error shape
(errors.py), one body cap (middleware.py) and one way to know the user (access.py);
docs.py serves /docs.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Iterable, Mapping

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from . import codapi, info, judge0, piston, runs, web
from .docs import complete_the_schema, serve_the_docs
from .errors import install_error_handlers
from .interface import Service
from .middleware import BodyLimit, LoopbackHosts

MAX_BODY_BYTES = 1024 * 1024
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def create_app(service: Service, *, tokens: Mapping[str, str] | None = None,
               cors_origins: Iterable[str] = (), max_body_bytes: int = MAX_BODY_BYTES,
               allowed_hosts: Iterable[str] | None = None, public: bool = False) -> FastAPI:
    """The service over HTTP. tokens maps each bearer token to its user's name; with
    none, users name themselves (X-Sandbox-User) or are their address. allowed_hosts,
    when given, are the only Host names answered (serve passes the loopback names for
    a loopback bind without tokens). CORS stays closed unless cors_origins names some.
    public: answer anyone without a token, each visitor a user by their address, their
    runs their own (access.is_public); for a learning site's pages (serve --public)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(title="tui-sandbox", version=_version(), lifespan=lifespan, redoc_url=None, docs_url=None,
                  summary="Run untrusted code in fresh, hardened, disposable containers.",
                  description="Every run gets a fresh container with no network, a read-only root, a non-root "
                  "user and no capabilities, unless a request asks otherwise within this server's ceilings "
                  "(GET /health). Runs wait in a fair queue in front of a host-wide cap. Errors are "
                  "`{\"error\": ..., \"fix\": ...}`; 429 and 503 carry Retry-After.")
    app.state.service = service
    app.state.tokens = dict(tokens or {})
    app.state.public = public and not tokens
    install_error_handlers(app)
    app.include_router(runs.router)
    app.include_router(info.router)
    app.include_router(piston.router)
    app.include_router(judge0.router)
    app.include_router(codapi.router)
    app.include_router(web.router)
    complete_the_schema(app)
    serve_the_docs(app)
    # Outermost last: CORS answers preflights, then the host check, then the body cap.
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    if allowed_hosts:
        app.add_middleware(LoopbackHosts, names=allowed_hosts)
    origins = list(cors_origins)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins,
                           allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-Sandbox-User", "X-Auth-Token"],
                           expose_headers=["Retry-After", "Location", "X-Run-Id"])
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tui-sandbox")
    except PackageNotFoundError:
        return "0"
