"""Who is asking, and may they: bearer tokens when the server has them (or Judge0's
X-Auth-Token header, for its clients); on a public server (serve --public) the client's
address alone; else the X-Sandbox-User header, else the client's address. Shared by every
HTTP front."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import HTTPException, Request

if TYPE_CHECKING:
    from .interface import Service

USER_HEADER = "X-Sandbox-User"
# Judge0's header for its token: the same tokens, for Judge0's clients.
JUDGE0_TOKEN_HEADER = "X-Auth-Token"
# The classroom's own token's user: its apps run as the student they name in USER_HEADER.
CLASSROOM = "@classroom"
# The user whose token sees the whole class (GET /class) and may cancel anyone's run.
TEACHER = "teacher"


def current_user(request: Request) -> str:
    """A FastAPI dependency: the user a request runs as, or 401 when a token is required."""
    tokens: dict[str, str] = getattr(request.app.state, "tokens", None) or {}   # token -> user name
    if tokens:
        user = tokens.get(_token(request) or "")
        if user is None:
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        if user == CLASSROOM:
            return _named(request) or user
        return user
    address = request.client.host if request.client else "anonymous"
    if is_public(request):
        return address      # a visitor names nobody: not another visitor, not a way past the rate limit
    return _named(request) or address


def _named(request: Request) -> str | None:
    named = request.headers.get(USER_HEADER, "").strip()
    return named[:64] or None


def is_teacher(request: Request) -> bool:
    """May this request see the whole class and cancel any run? With tokens: only with a
    token whose own user is TEACHER (the classroom's token naming a student "teacher" is
    not the teacher). Without tokens the server answers on loopback alone and every run is
    everyone's already: yes; but a public server has no teacher."""
    tokens: dict[str, str] = getattr(request.app.state, "tokens", None) or {}
    if not tokens:
        return not is_public(request)
    token = _token(request)
    return token is not None and tokens.get(token) == TEACHER


def _token(request: Request) -> str | None:
    """The token a request carries: Authorization: Bearer, else Judge0's X-Auth-Token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get(JUDGE0_TOKEN_HEADER, "").strip() or None


def service_of(request: Request) -> Service:
    """The service the app fronts (create_app keeps it on app.state)."""
    return request.app.state.service


def is_public(request: Request) -> bool:
    """Does this server answer anyone, each visitor a user by their address (serve --public)?"""
    return bool(getattr(request.app.state, "public", False))


def runs_are_private(request: Request) -> bool:
    """Is each run its own user's? With tokens, or on a public server (users by address);
    without either users only name themselves, with a header anyone may send."""
    return bool(getattr(request.app.state, "tokens", None)) or is_public(request)


def may_see(request: Request, owner: str, user: str, teacher: bool = False) -> bool:
    """With tokens, a run is its user's alone (and, where teacher is True, the teacher's
    too: to read and to cancel, never to type into); without, users only name themselves
    (a header anyone may send), so every run is everyone's to see."""
    return not runs_are_private(request) or owner == user or (teacher and is_teacher(request))
