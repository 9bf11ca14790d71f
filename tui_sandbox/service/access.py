"""Who is asking, and may they: bearer tokens when the server has them, else the
X-Sandbox-User header, else the client's address. Shared by every HTTP front."""

from __future__ import annotations

from fastapi import HTTPException, Request

USER_HEADER = "X-Sandbox-User"
# The classroom's own token's user: its apps run as the student they name in USER_HEADER.
CLASSROOM = "@classroom"


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
