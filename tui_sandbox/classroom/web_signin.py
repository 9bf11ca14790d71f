"""Signing in to the class in the browser: the sign-in page (the student's name and the
class code, by the class's rules: admission.py), and on success a signed session cookie
(HMAC-SHA256 with a random per-server key; HttpOnly, SameSite=Strict, for
COOKIE_MAX_AGE_S). Without a valid cookie the app's page is the sign-in page, and the
websocket that would start an app is refused (web.py); a sign-in or sign-out from another
origin is refused too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import time
from urllib.parse import urlsplit

from aiohttp import web

from .admission import NAME_RULE, Admission, valid_student_name

COOKIE = "tui_sandbox_student"
COOKIE_MAX_AGE_S = 12 * 3600
# The HTTP status of each refusal at sign-in.
_STATUS = {"attempts": 429, "name": 400, "code": 403, "closing": 503, "full": 503}


def sign(key: bytes, student: str, issued: int | None = None) -> str:
    issued = int(time.time()) if issued is None else issued
    payload = f"{base64.urlsafe_b64encode(student.encode()).decode()}.{issued}"
    mac = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def verify(key: bytes, value: str | None, max_age_s: float = COOKIE_MAX_AGE_S) -> str | None:
    """The student a cookie names, or None if it is forged, malformed or too old."""
    if not value or value.count(".") != 2:
        return None
    payload, _, mac = value.rpartition(".")
    expected = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    encoded, _, issued = payload.partition(".")
    try:
        student = base64.urlsafe_b64decode(encoded.encode()).decode()
        age = time.time() - int(issued)
    except ValueError:
        return None
    if not (0 <= age <= max_age_s + 60) or not valid_student_name(student):
        return None
    return student


def student_of(key: bytes, request: web.Request) -> str | None:
    """The student this request's cookie names, or None."""
    return verify(key, request.cookies.get(COOKIE))


async def sign_in(request: web.Request, admission: Admission, key: bytes) -> web.StreamResponse:
    """POST /signin: back to the app's page with a cookie, or the sign-in page saying why not."""
    peer = request.remote or "?"
    if not same_origin(request):
        raise web.HTTPForbidden(text="sign in from this server's own page")
    if refusal := admission.attempt(peer):
        return signin_page(refusal.message, status=_STATUS[refusal.reason])
    form = await request.post()
    name = str(form.get("name", "")).strip()
    code = str(form.get("code", ""))
    # A full class is said here, before a page that would only be closed; a tab already
    # signed in hears it when its app would start (Restart tries again).
    if refusal := await admission.sign_in(name, code, peer):
        return signin_page(refusal.message, name, status=_STATUS[refusal.reason])
    response = web.HTTPSeeOther("/")
    response.set_cookie(COOKIE, sign(key, name), max_age=COOKIE_MAX_AGE_S, path="/",
                        httponly=True, samesite="Strict", secure=request.secure)
    raise response


async def sign_out(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        raise web.HTTPForbidden(text="sign out from this server's own page")
    response = web.HTTPSeeOther("/")
    response.del_cookie(COOKIE, path="/")
    raise response


def same_origin(request: web.Request) -> bool:
    """No Origin (not a browser's cross-site request), or this very server's."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


_SIGNIN = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tui-sandbox: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ background: #0c181f; color: #eee; font: 16px/1.5 menlo, monospace; display: flex;
        justify-content: center; align-items: center; height: 100vh; margin: 0; }}
form {{ background: #12232d; padding: 2em 3em; }}
label {{ display: block; margin-top: 1em; }}
input {{ font: inherit; padding: .3em; width: 20em; }}
button {{ font: inherit; margin-top: 1.5em; padding: .5em 2em; background: #5e0ba7; color: #fff; border: 0; }}
.error {{ color: #ff8a80; }}
</style></head>
<body><form method="post" action="/signin">
<h1>tui-sandbox</h1>
{error}
<label for="name">Your name</label>
<input id="name" name="name" value="{name}" required maxlength="32" autocomplete="username"
       pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{{0,31}}" title="{rule}" autofocus>
<label for="code">Class code</label>
<input id="code" name="code" type="password" required autocomplete="current-password">
<button type="submit">Start</button>
</form></body></html>
"""


def signin_page(error: str = "", name: str = "", status: int = 200) -> web.Response:
    text = _SIGNIN.format(error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
                          name=html.escape(name if valid_student_name(name) else ""), rule=html.escape(NAME_RULE))
    return web.Response(text=text, status=status, content_type="text/html")

