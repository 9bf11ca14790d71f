"""The seeds' web page, served at /ui and /: a code box, a language picker, the network
and read-only switches, the limits, Run and Stop, and the run's output, stats and
verdict, live from the streaming POST /runs.

Plain HTML, CSS and a little JavaScript from the web/ folder beside this module: no
build step, and nothing from anywhere else (no font, script or CDN), which the page's
Content-Security-Policy enforces. The page speaks only the public HTTP API, with
relative URLs, so it works behind a reverse proxy's path prefix too.

Also the embed, for a learning site's own pages: /embed.js (and the /embed.css it links)
turns marked code blocks into runners (see web/embed.js), and /examples shows the seeds'
experiments embedded that way.
"""

from __future__ import annotations

import html
from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, Response

from tui_sandbox.experiments import load_experiments

router = APIRouter(include_in_schema=False)

# Everything the page needs comes from this server, and it may only talk to this server.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # The page and its files are small, and change with the package: always revalidate.
    "Cache-Control": "no-cache",
}

STATIC_TYPES = {
    "app.js": "text/javascript; charset=utf-8",
    "stream.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

# The examples the page offers, by file: the experiments the app's F4 also offers.
EXAMPLES = ("hello", "infinite_loop", "memory_bomb", "network", "write_files")
# The embed's examples: the walls and ends worth seeing, with the limits that show them.
EMBEDDED = (("hello.py", {}), ("network.py", {}), ("write_files.py", {}), ("fork_bomb.py", {"pids": "16"}),
            ("infinite_loop.py", {"timeout": "3"}), ("memory_bomb.py", {}))
# Served to any page: loaded by <script src> and <link>, which need no CORS.
EMBED_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache",
                 "Cross-Origin-Resource-Policy": "cross-origin"}


def _asset(name: str) -> bytes:
    return resources.files(__package__).joinpath("web", name).read_bytes()


def _page() -> Response:
    return Response(_asset("index.html"), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@router.get("/", response_class=Response)
def home() -> Response:
    return _page()


@router.get("/ui", response_class=Response)
def page() -> Response:
    return _page()


@router.get("/ui/examples.json")
def examples() -> JSONResponse:
    """The example programs, in the picker's order: each with its language and what it shows."""
    found = [e for e in load_experiments() if e.file.rsplit(".", 1)[0] in EXAMPLES]
    found.sort(key=lambda e: (e.language != "python", EXAMPLES.index(e.file.rsplit(".", 1)[0])))
    return JSONResponse([{"title": e.title, "language": e.language, "expect": e.expect,
                          "toggle": e.toggle, "source": e.source()} for e in found],
                        headers=SECURITY_HEADERS)


@router.get("/embed.js", response_class=Response)
def embed_script() -> Response:
    # One script for a learning site to include: what it shares with the page first.
    return Response(_asset("stream.js") + b"\n" + _asset("embed.js"), media_type="text/javascript; charset=utf-8",
                    headers=EMBED_HEADERS)


@router.get("/embed.css", response_class=Response)
def embed_style() -> Response:
    return Response(_asset("embed.css"), media_type="text/css; charset=utf-8", headers=EMBED_HEADERS)


@router.get("/examples", response_class=Response)
def embedded_examples() -> Response:
    """The seeds' experiments as a learning site would show them: each one a runner."""
    by_file = {e.file: e for e in load_experiments()}
    sections = []
    for file, limits in EMBEDDED:
        e = by_file[file]
        attributes = "".join(f' data-{name}="{html.escape(value)}"' for name, value in limits.items())
        block = f'<pre data-tui-sandbox="{html.escape(e.language)}"{attributes}>{html.escape(e.source())}</pre>'
        sections.append(f"<h2>{html.escape(e.title)}</h2>\n<p>{html.escape(e.expect)}</p>\n{block}")
    page = EXAMPLES_PAGE.replace("{{sections}}", "\n".join(sections))
    return Response(page, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


EXAMPLES_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tui-sandbox · runnable examples</title><link rel="icon" href="ui/favicon.svg">
<link rel="stylesheet" href="embed.css"></head>
<body class="tsb-page">
<h1>Runnable examples</h1>
<p>Each program below runs in a fresh, hardened container on this server: edit it, press Run (or Ctrl+Enter),
type into it while it runs, and see how it ends and which walls of the sandbox it hit. A page of your own
gets the same with one line: <code>&lt;script src="http://THIS-SERVER/embed.js" defer&gt;&lt;/script&gt;</code>
and <code>&lt;pre data-tui-sandbox="python"&gt;</code> around each program.</p>
{{sections}}
<script src="embed.js" defer></script>
</body></html>
"""


@router.get("/ui/{name}", response_class=Response)
def asset(name: str) -> Response:
    media_type = STATIC_TYPES.get(name)
    if media_type is None:
        raise HTTPException(404, f"no file {name!r} on this page")
    return Response(_asset(name), media_type=media_type, headers=SECURITY_HEADERS)
