"""Errors the engine raises: each carries a sentence for the user and, where there
is one, the command or step that fixes it. Nothing here is a traceback to show."""

from __future__ import annotations


class SandboxError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class EngineUnavailable(SandboxError):
    """No Docker engine answers (not installed, not running, socket not permitted)."""


class ImageMissing(SandboxError):
    """The runner image for a language has not been built."""


class LimitError(SandboxError):
    """A limit value is out of range or cannot be parsed."""


class CeilingExceeded(LimitError):
    """A limit over what the operator lets a request ask for (runner/ceilings.py)."""


class LanguageError(SandboxError):
    """An unknown language, or a bad language definition in the user's config."""


class SourceError(SandboxError):
    """The program's source cannot be read or is not text."""


class RuntimeUnavailable(SandboxError):
    """The chosen container runtime is not registered, or cannot honour a toggle."""
