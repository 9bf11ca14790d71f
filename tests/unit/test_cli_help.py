"""`tui-sandbox --help` names every command the command line has, in the README's order."""

import re
import subprocess
import sys
from pathlib import Path

from tui_sandbox.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]


def help_text() -> str:
    done = subprocess.run([sys.executable, "-m", "tui_sandbox", "--help"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_help_lists_every_command_with_its_summary():
    table = help_text().partition("\ncommands:\n")[2].partition("\n\n")[0]
    listed = [line.split()[0] for line in table.splitlines()]
    parser = build_parser()
    every = list(next(a for a in parser._actions if a.dest == "command").choices)
    assert listed == ["(none)", *COMMANDS]
    assert sorted(every) == sorted(COMMANDS), "a command the parser has is missing from COMMANDS"
    for line in table.splitlines():
        assert len(line.split(maxsplit=1)) == 2, f"no summary: {line!r}"


def test_the_readme_lists_the_commands_in_the_same_order():
    readme = (ROOT / "README.md").read_text()
    block = readme.partition("## The command line\n\n```\n")[2].partition("```")[0]
    named = [m.group(1) for m in re.finditer(r"^tui-sandbox (\w+)", block, re.M) if m.group(1) in COMMANDS]
    assert block.startswith("tui-sandbox [FILE]"), "the app comes first"
    assert list(dict.fromkeys(named)) == list(COMMANDS)
