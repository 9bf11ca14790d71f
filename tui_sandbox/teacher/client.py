"""The teacher's client of `tui-sandbox serve`: GET /class and DELETE /runs/{id}, over
httpx, and a snapshot put in words. No Textual, no Docker: `tui-sandbox class --once`
and the live app (app.py) both stand on it.

    with ClassClient("http://127.0.0.1:8000", token="...") as client:
        view = client.snapshot()        # GET /class's JSON, as a dict
        client.cancel(run_id)           # DELETE /runs/{id}

The live app's AsyncClassClient also pushes a demo (POST /class/demo) and peeks at one
student (GET /class/students/{user}).

Every failure is a ClassError with a message and a fix for a person: the server gone,
a token missing or not the teacher's, a server without the class view.
"""

from __future__ import annotations

import time

import httpx

from runner.units import format_size

from ..settings import environment

DEFAULT_SERVER = "http://127.0.0.1:8000"
TIMEOUT = httpx.Timeout(5.0)


def default_server() -> str:
    return environment().server or DEFAULT_SERVER


class ClassError(Exception):
    """The class cannot be read (or a run cancelled): what happened, and what to do."""

    def __init__(self, message: str, fix: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.fix, self.status = message, fix, status

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message

    def line(self) -> str:
        """In one line, for a status line."""
        return f"{self.message} — {self.fix}" if self.fix else self.message


def _headers(token: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _unreachable(url: str, exc: Exception) -> ClassError:
    reason = str(exc) or type(exc).__name__
    return ClassError(f"the server at {url} does not answer ({reason})",
                      "check --server, and that `tui-sandbox serve` runs there")


def _answer(url: str, response: httpx.Response, ok: tuple[int, ...] = (200,)) -> dict:
    """The JSON of a good answer, or a ClassError in the server's words."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code in ok and isinstance(body, dict):
        return body
    said = body if isinstance(body, dict) else {}
    message = said.get("error") or said.get("message") or f"the server answered {response.status_code}"
    fix = said.get("fix")
    status = response.status_code
    if status == 401:
        message, fix = "this server needs the teacher's token", (
            "give it: tui-sandbox class --token TOKEN (or $TUI_SANDBOX_TOKEN), the token of the user named teacher")
    elif status == 403 and response.request.url.path.startswith("/class"):
        fix = fix or "use the token of the user named teacher"
    elif status == 404 and response.request.url.path == "/class":
        message, fix = f"the server at {url} has no class view", "update tui-sandbox on the server"
    elif status in ok:
        message, fix = f"the server at {url} did not answer with JSON", "is --server a tui-sandbox server?"
    raise ClassError(message, fix, status)


class ClassClient:
    """Blocking: for `--once`, scripts and tests."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url = (url or default_server()).rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=_headers(token), timeout=TIMEOUT)

    def snapshot(self) -> dict:
        try:
            return _answer(self.url, self._http.get("/class"))
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, exc) from None

    def cancel(self, run_id: str) -> dict:
        try:
            return _answer(self.url, self._http.delete(f"/runs/{run_id}"), ok=(202,))
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, exc) from None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ClassClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AsyncClassClient:
    """The same, for the app's event loop: a poll never holds up quitting."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url = (url or default_server()).rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.url, headers=_headers(token), timeout=TIMEOUT)

    async def snapshot(self) -> dict:
        try:
            return _answer(self.url, await self._http.get("/class"))
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, exc) from None

    async def cancel(self, run_id: str) -> dict:
        return await self._ask("DELETE", f"/runs/{run_id}", ok=(202,))

    async def push(self, code: str, language: str, title: str | None = None, limits: dict | None = None) -> dict:
        """Show the class a program: every student's app offers it (POST /class/demo)."""
        return await self._ask("POST", "/class/demo", ok=(201,),
                               json={"code": code, "language": language, "title": title, "limits": limits})

    async def peek(self, user: str) -> dict:
        """One student's current program and last run (GET /class/students/{user})."""
        return await self._ask("GET", f"/class/students/{user}")

    async def _ask(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs) -> dict:
        try:
            return _answer(self.url, await self._http.request(method, path, **kwargs), ok=ok)
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, exc) from None

    async def aclose(self) -> None:
        await self._http.aclose()


# --- in words --------------------------------------------------------------------------

def verdict_word(verdict: str | None) -> str:
    """'TIMEOUT', 'OOM', 'OUTPUT LIMIT', as every front shows a verdict; '-' for none."""
    return verdict.upper().replace("_", " ") if verdict else "-"


def duration(seconds: float) -> str:
    """'7 s', '2m05s', '1h02m': short, for a table cell."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def front_text(student: dict) -> str:
    """How a student is connected: 'ssh', 'web', 'both', or '-' when not. A server from
    before the browser front gives no `fronts`: its connected students were over SSH."""
    if not student.get("connected"):
        return "-"
    fronts = student.get("fronts") or ["ssh"]
    return fronts[0] if len(fronts) == 1 else "both"


def connected_text(view: dict) -> str:
    """'3 (2 over SSH, 1 in a browser)': the sessions in the class now, by front."""
    connected = view.get("connected") or []
    over_ssh = sum(1 for c in connected if c.get("front", "ssh") == "ssh")
    in_browser = len(connected) - over_ssh
    parts = [f"{over_ssh} over SSH" if view.get("ssh") else "", f"{in_browser} in a browser" if view.get("web") else ""]
    return f"{len(connected)} ({', '.join(part for part in parts if part)})"


def has_class(view: dict) -> bool:
    """A class runs with this server, over SSH or in the browser."""
    return bool(view.get("ssh") or view.get("web"))


def running_text(student: dict) -> str:
    """'python 12 s 4.1M' (and '+1' when more than one of theirs runs), or ''."""
    running = student.get("running")
    if not running:
        return ""
    parts = [running["language"], duration(running["elapsed_s"])]
    if running.get("memory_bytes") is not None:
        parts.append(format_size(running["memory_bytes"], "short"))
    more = (student.get("running_count") or 1) - 1
    return " ".join(parts) + (f" +{more}" if more > 0 else "")


def last_text(student: dict, reason: bool = True) -> str:
    word = verdict_word(student.get("last_verdict"))
    kill = student.get("last_kill_reason")
    return f"{word}: {kill}" if reason and kill and student.get("last_verdict") else word


def queue_text(view: dict) -> str:
    queue = view["queue"]
    return f"{queue['running']}/{queue['cap']} running · {queue['queued']} queued"


def workers_text(view: dict) -> str:
    """'w1 1/2 running, w2 gone': a cluster's workers; empty on one host."""
    return ", ".join(f"{w['name']} {w['running']}/{w['cap']} running" if w["up"] else f"{w['name']} gone"
                     for w in view.get("workers") or ())


def totals_text(view: dict) -> str:
    totals = view["totals"]
    walls = walls_text(totals.get("walls") or {})
    return (f"{totals['runs']} · timeouts {totals['timeouts']} · OOM kills {totals['oom_kills']}"
            + (f" · walls {walls}" if walls else ""))


def walls_text(walls: dict) -> str:
    """'process ×26, network ×3': the walls hit, by kind, most first; '' for none."""
    return ", ".join(f"{kind} ×{times:,}" for kind, times in sorted(walls.items(), key=lambda kv: (-kv[1], kv[0])))


def ended_text(view: dict) -> str:
    """'3 ok · 1 timeout · 1 oom': the ended runs by verdict, most first."""
    counts = sorted(view["totals"]["by_verdict"].items(), key=lambda item: (-item[1], item[0]))
    return " · ".join(f"{n} {verdict.replace('_', ' ')}" for verdict, n in counts) or "none yet"


def clock(unix_time: float) -> str:
    return time.strftime("%H:%M", time.localtime(unix_time))


def describe(view: dict) -> str:
    """The snapshot for a person at a terminal (`tui-sandbox class --once`)."""
    connected = view.get("connected") or []
    lines = [f"queue: {queue_text(view)}",
             f"runs: {totals_text(view)}",
             f"ended since {clock(view['since'])}: {ended_text(view)}"]
    if workers_text(view):
        lines.append(f"workers: {workers_text(view)}")
    if has_class(view):
        lines.append(f"connected: {connected_text(view)}" + (": " + ", ".join(
            f"{c['user']} ({c.get('front', 'ssh')}, {c['address']}, since {clock(c['since'])})"
            for c in connected) if connected else ""))
    students = view.get("students") or []
    if not students:
        lines.append("no students yet")
        return "\n".join(lines)
    header = f"{'STUDENT':<16} {'VIA':<4}  {'RUNNING':<22} {'QUEUED':>6}  {'RUNS':>4} {'T/O':>3} {'OOM':>3}  LAST"
    lines += ["", header]
    for s in students:
        lines.append(f"{s['user'][:16]:<16} {front_text(s):<4}  {running_text(s) or '-':<22} "
                     f"{s['queued']:>6}  {s['runs']:>4} {s['timeouts']:>3} {s['oom_kills']:>3}  {last_text(s)}"
                     + (f" · walls hit: {walls_text(s['walls'])}" if walls_text(s.get("walls") or {}) else ""))
    return "\n".join(lines)
