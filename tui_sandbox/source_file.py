"""Reading and writing the program's file, with every failure turned into a sentence."""

from __future__ import annotations

import os
from pathlib import Path

from runner import SourceError

# TextArea re-highlights the whole document per keystroke: beyond this, editing a
# file is a slog, and a sandbox exercise is never this big.
MAX_EDIT_BYTES = 2 * 1024 * 1024


def read_source(path: Path) -> str:
    if not path.exists():
        raise SourceError(f"no such file: {path}")
    if path.is_dir():
        raise SourceError(f"{path} is a directory, not a program")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_EDIT_BYTES:
        raise SourceError(f"{path} is {len(data) // 1024} KiB: too big to edit here")
    if b"\0" in data:
        raise SourceError(f"{path} looks binary, not a program's source", "open a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{path} is not UTF-8 text", "open a source file, not a binary") from None


def write_source(path: Path, text: str) -> None:
    """Write through a temporary file, so a full disk never leaves half a program."""
    tmp = path.with_name(f".{path.name}.tui-sandbox-tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        tmp.replace(path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise SourceError(f"cannot save {path}: {exc.strerror}") from None
