"""What the fork server imports and builds once, before any fork, and what each child must
read again from its own environment.

The list is what a real session loads (a diff of sys.modules after driving the app: typing,
running on a server, opening the dialogs), plus both drivers, not a guess: a module
imported only in a child is a private copy in every child. Built once: tree-sitter's
languages (Textual caches them per process), and the code the apps run, copied together
(hot_code.py); freeze() then writes ahead what a child would write first. Running the app
once, headless, here (to fill Textual's per-class CSS caches and specialise the bytecode
before the forks) was measured twice: on 3.11 the children were no smaller; on 3.12, with
immortal objects, 0.4 MiB smaller each, for a fork server 9 MiB larger and a thread-free
start to guarantee. Not done.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import pkgutil
import sys
import tempfile
import types

from .hot_code import load, record_if_asked, relocate

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
    "textual.pilot", "encodings.idna", "importlib.readers", "importlib.resources.readers",
)
# The packages whose every module a session may load (its screens and widgets, each
# imported when first shown).
PACKAGES = ("tui_sandbox.app",)
# The grammars a session shows beside its languages' own (Language.highlight): the report's.
SCREEN_GRAMMARS = ("markdown",)


def grammars() -> list[str]:
    """The tree-sitter grammars a session may highlight with: its languages' and its screens'."""
    from runner.errors import LanguageError
    from runner.languages import BUILTIN, load_languages

    try:
        table = load_languages()
    except LanguageError:
        table = BUILTIN     # the session itself will say what is wrong with the file
    return sorted({lang.highlight for lang in table.values() if lang.highlight} | set(SCREEN_GRAMMARS))


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
    from rich.cells import get_character_cell_size

    get_character_cell_size("\u4e00")   # Rich imports its width table at the first wide character
    try:
        from textual._tree_sitter import get_language
    except ImportError:
        pass
    else:
        for language in grammars():
            if get_language(language) is None:
                missing.append(f"tree_sitter_{language}")
    fill_free_blocks()      # so that the copies go to fresh pools, side by side
    relocate(load())
    return missing


def freeze() -> None:
    """Everything alive now is moved out of the collector's reach for good: a child's
    collections never visit (and so never write to, and so never copy) these objects.
    Where the interpreter has immortal objects, they are made immortal too (immortalize).
    Before that, what a child would otherwise write into the first time is written here:
    every class's version tag, every module's globals' version; after it, pymalloc's free
    blocks are taken. Each of these is a page a child no longer copies."""
    gc.collect()
    tag_types()
    version_globals()
    immortalize()
    gc.freeze()
    fill_free_blocks()


def tag_types() -> None:
    """Give every class its version tag now. The interpreter tags a class at its first
    attribute lookup (the tag keys its method cache and its specialised bytecode), and any
    change to a class clears it; an import changes many. Untagged, each class would be
    tagged in every child, a write into the class object: a copied page each (measured:
    about 200 per child)."""
    for obj in gc.get_objects():
        if isinstance(obj, type):
            try:
                getattr(obj, "__tui_sandbox_tags_this_class__", None)
            except Exception:  # noqa: BLE001, S112 - a metaclass's __getattr__ may raise anything
                continue


def fill_free_blocks() -> None:
    """Take every free block of pymalloc's partly used pools, for good. A child's first
    small objects would go into them, scattered among the fork server's live objects,
    and each would copy the page around it; with none free, they go to fresh pools, side
    by side (measured: 0.3 MiB less a child). The counts per size class are read off
    sys._debugmallocstats (on stderr, so through a temporary file); a few rounds, as
    reading them frees a few blocks again. Where pymalloc is off (PYTHONMALLOC=malloc),
    there is nothing to read and nothing is done."""
    malloc = ctypes.pythonapi.PyObject_Malloc
    malloc.restype = ctypes.c_void_p
    malloc.argtypes = [ctypes.c_size_t]
    for _ in range(3):
        taken = 0
        for size, free in _free_blocks():
            for _ in range(free):
                malloc(size)
            taken += free
        if taken < 50:
            return


def _free_blocks() -> list[tuple[int, int]]:
    """(block size, free blocks in the pools in use), per size class."""
    with tempfile.TemporaryFile("w+") as report:
        saved = os.dup(2)
        os.dup2(report.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        report.seek(0)
        lines = report.read().splitlines()
    rows = [line.split() for line in lines]
    # "class size num-pools blocks-in-use avail-blocks", all numbers
    return [(int(row[1]), int(row[4])) for row in rows if len(row) == 5 and all(c.isdigit() for c in row)]


def version_globals() -> None:
    """Give every module's globals their version now. A global read (LOAD_GLOBAL), once
    specialised, keys its cache on a version the interpreter writes into the namespace's
    keys table the first time it is asked for one: in a child, a write into a table of the
    fork server's, a copied page for every module whose code the child runs (measured: a
    third of a MiB a child). A probe function reading a global in each module, run until
    its read is specialised, asks for that version here, before the fork."""
    template = compile("def probe():\n    return __name__\n", "<tui-sandbox>", "exec").co_consts[0]
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if type(namespace) is dict and "__name__" in namespace:
            probe = types.FunctionType(template.replace(), namespace)
            for _ in range(8):
                probe()


def immortalize() -> int:
    """Make every object alive now immortal, as CPython 3.12+ makes None or a small int
    (PEP 683): its reference count is never written again. The count of every object a
    child so much as touches is a write, and a write copies the whole page the object
    shares with others: measured, that was most of a child's own memory. The fork server
    never frees what it preloaded, so for its objects immortality changes nothing else;
    a child's own objects are not touched. The immortal count is read off None; an
    interpreter without immortal objects (3.11) is left alone. Returns how many."""
    immortal = ctypes.c_ssize_t.from_address(id(None)).value
    if immortal != sys.getrefcount(None) or immortal < 2 ** 31:
        return 0          # no immortal objects here: None's count is an ordinary count
    count = 0

    def mark(obj) -> bool:
        nonlocal count
        cell = ctypes.c_ssize_t.from_address(id(obj))
        if cell.value == immortal:
            return False
        cell.value = immortal
        count += 1
        if type(obj) is str:
            hash(obj)       # a string keeps its hash, computed at its first hash(): here, not in a child
        return True

    def mark_constants(code: types.CodeType) -> None:
        # A code object is not the collector's, nor are its constants: each LOAD_CONST
        # writes the count of a string, number or tuple it loads. Walked once, at the
        # code object's first marking; a nested code object's constants with it.
        stack = [code.co_consts]
        while stack:
            obj = stack.pop()
            if mark(obj):
                if type(obj) is types.CodeType:
                    stack.append(obj.co_consts)
                elif type(obj) in (tuple, frozenset):
                    stack.extend(obj)

    # The collector's objects, and what they hold that it does not track (strings,
    # numbers, bytes, tuples of those, code and its constants), without building any set:
    # a set of a quarter of a million ids would leave pages the children then write into.
    for obj in gc.get_objects():
        mark(obj)
        for held in gc.get_referents(obj):
            if gc.is_tracked(held):
                continue
            if type(held) is types.CodeType:
                if mark(held):
                    mark_constants(held)
            else:
                mark(held)
                if type(held) is tuple:
                    for item in held:
                        mark(item)
    return count


def after_fork() -> None:
    """In a child, once its environment is the student's: what was read from the fork
    server's environment at import is read again from this one. Textual takes its driver
    (TEXTUAL_DRIVER: the browser's), colours, FPS and theme from textual.constants, which
    it reads at import and consults as attributes."""
    import textual.constants

    importlib.reload(textual.constants)
    record_if_asked()


def _import(name: str, missing: list[str]) -> None:
    try:
        importlib.import_module(name)
    except ImportError:
        missing.append(name)
