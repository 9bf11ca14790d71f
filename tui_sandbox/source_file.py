"""Reading and writing the program's file, with every failure turned into a sentence."""

from __future__ import annotations

import os
from pathlib import Path

from runner import SourceError

from .settings import environment

# TextArea re-highlights the whole document per keystroke: beyond this, editing a
# file is a slog, and a sandbox exercise is never this big.
MAX_EDIT_BYTES = 2 * 1024 * 1024


def files_root() -> Path | None:
    """Set by the classroom for each student's app (TUI_SANDBOX_FILES_DIR): files may be
    opened and saved only in this folder, so a student cannot read the server's files
    (its host key, ~/.ssh)."""
    root = environment().files_dir
    return Path(root).resolve() if root else None


def confine(path: Path) -> Path:
    """The path to use, or SourceError when it lies outside the student's folder (a
    relative name is taken in that folder; links are followed before the check)."""
    root = files_root()
    if root is None:
        return path
    full = (path if path.is_absolute() else root / path).resolve()
    if full != root and root not in full.parents:
        raise SourceError(f"{path} is outside your folder: here only files in {root} can be opened or saved",
                          "use a plain name, like prog.py")
    return full


def read_source(path: Path, max_bytes: int | None = None) -> str:
    """A program file's text, or SourceError saying what is wrong with it."""
    path = confine(path)
    try:
        if not path.exists():
            raise SourceError(f"no such file: {path}")
        if path.is_dir():
            raise SourceError(f"{path} is a directory, not a program")
        data = path.read_bytes()
    except OSError as exc:   # exists() too raises, for a directory we may not enter
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise SourceError(f"{path} is {len(data) // 1024} KiB: too big to edit here")
    return decode_source(data, str(path))


def decode_source(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{where} is not UTF-8 text", "open a source file, not a binary") from None
    if "\0" in text:
        raise SourceError(f"{where} looks binary, not a program's source", "open a text file")
    return text


def write_source(path: Path, text: str) -> None:
    """Write through a temporary file, so a full disk never leaves half a program."""
    path = confine(path)
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
