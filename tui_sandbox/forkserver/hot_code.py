"""The code a student's app runs, gathered in one place before the forks.

On CPython 3.11+ running a function writes into its code object: the specialising
interpreter keeps counters in the bytecode itself. A fork's first write to a page copies
it, so a child that runs a fifth of the preloaded code copies nearly every page holding
code, since code objects lie among everything else a module import allocated (measured
on 3.12: 1,229 pages, 4.8 MiB per child, for 0.95 MiB of code objects the child ran).
Copying the code objects the apps run into fresh memory, one after the other, before the
first fork, makes their writes land on as few pages as that code fills.

Which code the apps run is recorded from real sessions (TUI_SANDBOX_RECORD_CODE names a
folder: every app of the class writes what it ran to a file of its own there;
scripts/record_hot_code.py drives a class for it) and kept in hot_code.txt beside this
module, a line per code object: its file (as its import names it: textual/strip.py) and its
qualified name. A line that no longer names anything (a library changed) is skipped: the
apps run the same either way, only their memory differs.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import gc
import os
import sys
import types
from pathlib import Path

HOT_CODE = Path(__file__).with_name("hot_code.txt")
RECORD_VARIABLE = "TUI_SANDBOX_RECORD_CODE"
# The code objects replaced by their copies, kept: freed, each would leave a hole among
# live objects, which a child's first allocations fill, copying the page around it.
_REPLACED: list[types.CodeType] = []
_TOOL = 5      # a sys.monitoring tool id no debugger, profiler or coverage tool claims


def key(code: types.CodeType) -> str:
    """A code object's name across machines and edits: its file (see _relative), a tab,
    its qualified name."""
    return f"{_relative(code.co_filename)}\t{code.co_qualname}"


def load(path: Path = HOT_CODE) -> set[str]:
    try:
        return {line for line in path.read_text().splitlines() if "\t" in line}
    except OSError:
        return set()


def relocate(hot: set[str]) -> int:
    """Copy every code object named in hot, with the functions that run it pointed at the
    copy; a code object defined inside another (a nested function, a lambda, a
    comprehension on 3.11) is reached through its parent's constants, so the parents are
    copied too. Call before freezing. Returns how many code objects were copied."""
    functions: dict[int, list[types.FunctionType]] = {}
    parent: dict[int, types.CodeType] = {}
    codes: dict[int, types.CodeType] = {}

    def walk(code: types.CodeType) -> None:
        if id(code) in codes:
            return
        codes[id(code)] = code
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                parent[id(const)] = code
                walk(const)

    for obj in gc.get_objects():
        if type(obj) is types.FunctionType:
            functions.setdefault(id(obj.__code__), []).append(obj)
            walk(obj.__code__)
    chosen: set[int] = set()
    for ident, code in codes.items():
        if key(code) in hot:
            while ident not in chosen:
                chosen.add(ident)
                up = parent.get(ident)
                if up is None:
                    break
                ident = id(up)
    for ident in chosen:
        # replace() reads these, which a code object builds on first reading and keeps:
        # built now, first, they do not lie between the copies.
        code = codes[ident]
        code.co_code, code.co_varnames, code.co_cellvars, code.co_freevars  # noqa: B018
    copies: dict[int, types.CodeType] = {}

    def copy(code: types.CodeType) -> types.CodeType:
        done = copies.get(id(code))
        if done is None:
            consts = tuple(copy(c) if isinstance(c, types.CodeType) and id(c) in chosen else c
                           for c in code.co_consts)
            done = copies[id(code)] = code.replace(co_consts=consts)
        return done

    version = _version_offset()
    for ident in chosen:
        if ident in functions:
            new = copy(codes[ident])
            for function in functions[ident]:
                kept = _read_version(function, version)
                function.__code__ = new
                _write_version(function, version, kept)
    _REPLACED.extend(codes[ident] for ident in chosen)
    return len(copies)


def _version_offset() -> int | None:
    """Where a function keeps its version (3.11+: func_version, which the specialising
    interpreter reads to know the function has not changed since it cached a call).
    Setting __code__ zeroes it, and a child would then write a fresh one into every such
    function it calls: a copied page each. The copy runs the same bytecode, so its old
    version still holds. Found, not assumed: the one 32-bit field a __code__ assignment
    turns from non-zero to zero; None (nothing restored) if that is not exactly one."""
    def probe() -> None:
        pass

    size = type(probe).__basicsize__
    before = ctypes.string_at(id(probe), size)
    probe.__code__ = probe.__code__.replace()
    after = ctypes.string_at(id(probe), size)
    zeroed = [at for at in range(16, size - 3, 4)
              if before[at:at + 4] != bytes(4) and after[at:at + 4] == bytes(4)]
    return zeroed[0] if len(zeroed) == 1 else None


def _read_version(function: types.FunctionType, offset: int | None) -> int:
    return 0 if offset is None else ctypes.c_uint32.from_address(id(function) + offset).value


def _write_version(function: types.FunctionType, offset: int | None, version: int) -> None:
    if offset is not None and version:
        ctypes.c_uint32.from_address(id(function) + offset).value = version


def record(folder: str) -> None:
    """In an app: write to folder/PID.txt the key of every code object it starts running
    (each once: the callback then turns itself off for that code, so recording costs the
    app next to nothing), at its exit."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return                      # before 3.12: nothing to record with
    seen: set[str] = set()     # set.add, not a file's write: the app's threads run code too

    def started(code: types.CodeType, _offset: int) -> object:
        seen.add(key(code))
        return monitoring.DISABLE

    def stop() -> None:
        monitoring.set_events(_TOOL, 0)
        (Path(folder) / f"{os.getpid()}.txt").write_text("".join(f"{line}\n" for line in sorted(seen)))

    monitoring.use_tool_id(_TOOL, "tui-sandbox hot code")
    monitoring.register_callback(_TOOL, monitoring.events.PY_START, started)
    monitoring.set_events(_TOOL, monitoring.events.PY_START)
    atexit.register(stop)


def record_if_asked() -> None:
    if os.environ.get(RECORD_VARIABLE):
        record(os.environ[RECORD_VARIABLE])


@functools.cache
def _relative(filename: str) -> str:
    """textual/strip.py, json/__init__.py, tui_sandbox/app/app.py wherever they are
    installed: relative to the longest sys.path entry above the file, or else (a package
    found by an editable install's finder) to the folder above its top package. A file not
    on disk (<frozen abc>, <string>) is as it is named."""
    path = Path(filename)
    if not path.is_absolute():
        return filename
    entries = [Path(entry or os.getcwd()) for entry in sys.path]
    above = [entry for entry in entries if entry in path.parents]
    if above:
        return path.relative_to(max(above, key=lambda entry: len(entry.parts))).as_posix()
    top = path.parent
    while (top / "__init__.py").exists():
        top = top.parent
    return path.relative_to(top).as_posix()
