"""The house's rules of size: no module over 400 lines and no class over 250 in the
engine and the app's packages, so that each stays one thing a reader can hold. CSS and
data files are not Python and do not count."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250


def sources() -> list[Path]:
    return sorted(p for root in ("runner", "tui_sandbox") for p in (ROOT / root).rglob("*.py"))


def test_the_tree_has_modules_to_measure():
    assert len(sources()) > 50


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in sources()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_class_is_over_250_lines():
    large = {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES:
                large[f"{path.relative_to(ROOT)}:{node.name}"] = node.end_lineno - node.lineno + 1
    assert large == {}
