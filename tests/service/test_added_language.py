"""A language added through languages.toml alone reaches every front: `run`, GET
/languages, Piston's /runtimes and /execute (a real Piston client), Judge0's /languages and
a submission by its id (Judge0's own SDK), the app's picker and editor, and the report's
name for it. The language is dash, in our bash image (Debian's /bin/sh), so no
image is built for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import judge0
import pytest
from ultra_piston import File, PistonClient

from runner import Sandbox
from runner.docker.images import image_ref
from runner.languages import BUILTIN
from tui_sandbox.app import SandboxApp
from tui_sandbox.experiments import Experiment
from tui_sandbox.report.runs import Case

PROGRAM = 'read name\necho "hello $name from ${0##*/}"\n[ -z "$BASH_VERSION" ] && echo "not bash"\n'
SAID = "hello ada from main.sh\nnot bash\n"


@pytest.fixture
def config_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "config"
    (home / "tui-sandbox").mkdir(parents=True)
    (home / "tui-sandbox" / "languages.toml").write_text(f"""
[languages.dash]
image = "{image_ref(BUILTIN['bash'])}"
file = "main.sh"
run = ["dash", "{{file}}"]
extensions = [".dash"]
highlight = "bash"
title = "Dash"
aliases = ["posix-sh"]
version_probe = "dpkg-query -W -f '${{Version}}' dash | cut -d- -f1"
indent = 3
block_openers = ["then", "do"]
line_comment = "#"
""")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_the_cli_runs_it_by_its_extension_and_its_alias(sandbox, config_home, tmp_path):
    program, name = tmp_path / "greet.dash", tmp_path / "name.txt"
    program.write_text(PROGRAM)
    name.write_text("ada\n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home)}
    for args in ([str(program)], ["--lang", "posix-sh", str(program)]):
        ran = subprocess.run([sys.executable, "-m", "tui_sandbox", "run", "--stdin-file", str(name), *args],
                             capture_output=True, text=True, env=env, timeout=60)
        assert ran.returncode == 0 and ran.stdout == SAID, ran.stderr


def test_every_api_front_lists_and_runs_it(serve, config_home):
    server = serve(env={"XDG_CONFIG_HOME": str(config_home)})
    ours = {one["name"]: one for one in server.client.get("/languages").json()}
    assert ours["dash"]["aliases"] == ["posix-sh"] and ours["dash"]["extensions"] == [".dash"]

    piston = PistonClient(base_url=f"{server.url}/api/v2/", rate_limit=0)
    runtimes = {runtime.language: runtime for runtime in piston.get_runtimes()}
    assert runtimes["dash"].aliases == ["posix-sh"]
    assert runtimes["dash"].version.startswith("0.5.")           # asked of the image: Debian's dash
    ran = piston.post_execute("posix-sh", "*", File(content=PROGRAM), stdin="ada\n")
    assert ran.run.stdout == SAID, ran

    client = judge0.Client(f"{server.url}/judge0")
    listed = {language.name: language.id for language in client.get_languages()}
    name = f"Dash ({runtimes['dash'].version})"
    assert name in listed and listed["Python (3.11.2)"] == 71, listed
    done = judge0.run(client=client, source_code=PROGRAM, language=listed[name], stdin="ada\n")
    assert done.stdout == SAID and done.language == listed[name], done


async def test_the_app_offers_it_and_edits_it_in_its_style(sandbox, config_home):
    app = SandboxApp(sandbox=Sandbox(), language="dash")     # an engine that has read languages.toml
    async with app.run_test(size=(120, 40)) as pilot:
        picker = app.query_one("#language")
        assert "dash" in [value for _, value in picker._options]
        editor = app.query_one("#editor")
        assert editor.indent_width == 3 and editor.language == "bash"
        editor.load("")
        await pilot.press(*"if true; then", "enter")
        assert editor.text == "if true; then\n   "


def test_the_report_calls_it_by_its_title(config_home):
    case = Case(Experiment(file="greet.dash", title="Greet", language="dash", expect="", toggle=""), limits=None)
    assert case.language_title == "Dash"
