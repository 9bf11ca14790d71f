"""Who is asking, and may they: bearer tokens when the server has them, else the
X-Sandbox-User header, else the client's address. Shared by every HTTP front."""

from __future__ import annotations

from fastapi import HTTPException, Request

USER_HEADER = "X-Sandbox-User"
# The classroom's own token's user: its apps run as the student they name in USER_HEADER.
CLASSROOM = "@classroom"
# The user whose token sees the whole class (GET /class) and may cancel anyone's run.
TEACHER = "teacher"


def current_user(request: Request) -> str:
    """A FastAPI dependency: the user a request runs as, or 401 when a token is required."""
    tokens: dict[str, str] = getattr(request.app.state, "tokens", None) or {}   # token -> user name
    if tokens:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        if user == CLASSROOM:
            return _named(request) or user
        return user
    return _named(request) or (request.client.host if request.client else "anonymous")


def _named(request: Request) -> str | None:
    named = request.headers.get(USER_HEADER, "").strip()
    return named[:64] or None


def is_teacher(request: Request) -> bool:
    """May this request see the whole class and cancel any run? With tokens: only with a
    token whose own user is TEACHER (the classroom's token naming a student "teacher" is
    not the teacher). Without tokens the server answers on loopback alone and every run is
    everyone's already: yes."""
    tokens: dict[str, str] = getattr(request.app.state, "tokens", None) or {}
    if not tokens:
        return True
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and tokens.get(token.strip()) == TEACHER
