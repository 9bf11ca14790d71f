"""The fork server's hot code (tui_sandbox/forkserver/hot_code.py): copied together, still
the same code; recorded by the apps; and the shipped list still names what it lists."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from tui_sandbox.forkserver import hot_code

ROOT = Path(__file__).resolve().parents[2]
needs_312 = pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring and co_qualname keys: 3.12+")


def _module(tmp_path: Path) -> types.ModuleType:
    source = textwrap.dedent("""
        def plain(x):
            return x * 2

        def outer(n):
            def inner(k):
                return k + n
            return inner

        class Thing:
            def method(self, y):
                return [y + i for i in range(3)]

        def cold():
            return "cold"
    """)
    path = tmp_path / "hotmod.py"
    path.write_text(source)
    sys.path.insert(0, str(tmp_path))
    try:
        import hotmod
    finally:
        sys.path.remove(str(tmp_path))
    return hotmod


@needs_312
def test_relocated_code_is_a_copy_that_runs_the_same_and_keeps_its_version(tmp_path):
    mod = _module(tmp_path)
    hot = {hot_code.key(mod.plain.__code__), "hotmod.py\touter.<locals>.inner",
           hot_code.key(mod.Thing.method.__code__)}
    before = {name: getattr(mod, name).__code__ for name in ("plain", "outer", "cold")}
    method_before = mod.Thing.method.__code__
    offset = hot_code._version_offset()
    assert offset is not None
    version = hot_code._read_version(mod.plain, offset)
    copied = hot_code.relocate(hot)
    sys.modules.pop("hotmod", None)
    # plain and method copied; inner reached through outer's constants, so outer too
    assert copied == 4
    assert mod.plain.__code__ is not before["plain"] and mod.plain.__code__.co_code == before["plain"].co_code
    assert mod.outer.__code__ is not before["outer"]
    assert mod.Thing.method.__code__ is not method_before
    assert mod.cold.__code__ is before["cold"]
    assert hot_code._read_version(mod.plain, offset) == version != 0
    assert mod.plain(21) == 42 and mod.outer(1)(41) == 42 and mod.Thing().method(1) == [1, 2, 3]
    inner = mod.outer(0)
    assert inner.__code__ in mod.outer.__code__.co_consts      # the copy's own inner code


@needs_312
def test_an_app_started_with_the_variable_records_what_it_ran(tmp_path):
    folder = tmp_path / "ran"
    folder.mkdir()
    script = textwrap.dedent(f"""
        import os
        os.environ["{hot_code.RECORD_VARIABLE}"] = {str(folder)!r}
        from tui_sandbox.forkserver.hot_code import record_if_asked
        record_if_asked()
        import json
        def ran_here():
            return json.dumps([1])
        ran_here()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    (written,) = folder.glob("*.txt")
    lines = written.read_text().splitlines()
    assert "<string>\tran_here" in lines
    assert "json/__init__.py\tdumps" in lines
    assert not any("\tcold" in line for line in lines)


@needs_312
def test_the_shipped_list_still_names_the_code_it_lists():
    # A library upgrade renames or moves code; the list then no longer finds it and the
    # apps copy more memory (never run differently). Re-record: scripts/record_hot_code.py.
    script = textwrap.dedent("""
        import gc, types
        from tui_sandbox.forkserver import hot_code, preload
        preload.relocate = lambda hot: 0
        preload.preload()
        found = set()
        def walk(code):
            found.add(hot_code.key(code))
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    walk(const)
        for obj in gc.get_objects():
            if type(obj) is types.FunctionType:
                walk(obj.__code__)
        listed = hot_code.load()
        print(len(listed), len(listed & found))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    listed, found = map(int, done.stdout.split())
    assert listed > 1000
    assert found >= 0.8 * listed, f"only {found} of {listed} listed code objects exist: re-record the list"


def test_after_the_fill_no_small_block_is_free_among_live_objects():
    # forkserver/preload.py fill_free_blocks: a child's small objects then go to fresh
    # pools. Run apart: it takes the blocks for good.
    script = textwrap.dedent("""
        import json
        from tui_sandbox.forkserver.preload import _free_blocks, fill_free_blocks
        junk = [json.dumps({"k": i}) for i in range(20000)]
        del junk[::3]                    # holes in many pools
        before = sum(free for _, free in _free_blocks())
        fill_free_blocks()
        after = sum(free for _, free in _free_blocks())
        print(before, after)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    # What stays free is about what reading the counts itself leaves (a few hundred
    # objects, freed as it returns), not the holes.
    assert before > 5000
    assert after < before / 4, (before, after)
