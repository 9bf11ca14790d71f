"""What the fork server imports and builds once, before any fork, and what each child must
read again from its own environment.

The list is what a real session loads (a diff of sys.modules after driving the app: typing,
running on a server, opening the dialogs), plus both drivers, not a guess: a module
imported only in a child is a private copy in every child. Built once: tree-sitter's
languages (Textual caches them per process). Running the app once, headless, here (to fill
Textual's per-class CSS caches and specialise the bytecode before the forks) was measured:
the children were no smaller and the fork server 9 MiB larger, so it is not done.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil

# Loaded by the app only once it runs (a diff of sys.modules after a real session): the
# drivers (SSH: the Linux one; a browser tab: the web one), the remote client and httpx
# (every class's app is a client of `serve`), and what Textual and Rich import lazily.
LATE_MODULES = (
    "tui_sandbox.cli", "tui_sandbox.remote", "tui_sandbox.themes",
    "textual.drivers.linux_driver", "textual.drivers.web_driver", "textual.drivers._writer_thread",
    "textual.drivers._input_reader", "textual.layouts.factory", "textual.layouts.horizontal",
    "textual.layouts.vertical", "textual.layouts.grid", "textual.layouts.stream",
    "textual.widgets._text_area", "textual.document._syntax_aware_document", "textual._tree_sitter",
    "rich.live", "rich.live_render", "rich.progress", "rich.progress_bar", "rich.spinner", "rich.ansi",
    "rich.file_proxy", "rich.filesize", "rich._spinners",
    "httpx", "httpx._transports.default", "httpcore", "h11", "idna", "certifi", "anyio",
    "http.client", "http.cookiejar", "urllib.request", "email.parser", "email.message", "zipfile",
    "concurrent.futures.thread", "calendar", "gettext", "stringprep", "mmap", "hashlib",
)
# The packages whose every module a session may load (its screens and widgets, each
# imported when first shown).
PACKAGES = ("tui_sandbox.app",)
# TextArea's languages (tree-sitter grammars), and C, which the app registers itself.
LANGUAGES = ("bash", "css", "go", "html", "java", "javascript", "json", "markdown", "python", "regex",
             "rust", "sql", "toml", "xml", "yaml", "c")


def preload() -> list[str]:
    """Import and build everything; the names that could not be imported (a missing
    optional grammar) are returned, for the log: the child imports them itself, if at all."""
    missing: list[str] = []
    for name in LATE_MODULES:
        _import(name, missing)
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            _import(info.name, missing)
    try:
        from textual._tree_sitter import get_language
    except ImportError:
        return missing
    for language in LANGUAGES:
        if get_language(language) is None:
            missing.append(f"tree_sitter_{language}")
    return missing


def freeze() -> None:
    """Everything alive now is moved out of the collector's reach for good: a child's
    collections never visit (and so never write to, and so never copy) these objects."""
    gc.collect()
    gc.freeze()


def after_fork() -> None:
    """In a child, once its environment is the student's: what was read from the fork
    server's environment at import is read again from this one. Textual takes its driver
    (TEXTUAL_DRIVER: the browser's), colours, FPS and theme from textual.constants, which
    it reads at import and consults as attributes."""
    import textual.constants

    importlib.reload(textual.constants)


def _import(name: str, missing: list[str]) -> None:
    try:
        importlib.import_module(name)
    except ImportError:
        missing.append(name)
