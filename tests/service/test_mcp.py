"""`tui-sandbox mcp` as an agent's host meets it: `python -m tui_sandbox mcp` started by
the official SDK's own stdio client, spoken to with its ClientSession, running real
containers; and with --server, through a real `tui-sandbox serve`, whose history then
has the runs."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from contextlib import asynccontextmanager

import pytest
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client

from .conftest import ROOT, wait_until

MEMORY_BOMB = "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))\n"


@asynccontextmanager
async def mcp_session(tmp_path, *args: str, env: dict | None = None):
    """A ClientSession on a fresh `tui-sandbox mcp` process; it ends when the block does."""
    # The SDK gives a server a minimal environment: the engine's and the data's places are passed on.
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1", **(env or {})}
    params = StdioServerParameters(command=sys.executable, args=["-m", "tui_sandbox", "mcp", *args], env=env,
                                   cwd=str(ROOT))
    with open(tmp_path / "mcp.stderr", "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


async def run_code(session: ClientSession, **arguments):
    return await session.call_tool("run_code", arguments)


def text_of(answer) -> str:
    return "\n".join(block.text for block in answer.content)


async def test_tools_resources_and_hello_world(sandbox, tmp_path):
    async with mcp_session(tmp_path) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == {"run_code"}
        schema = tools["run_code"].input_schema
        assert set(schema["required"]) == {"language", "code"}
        assert {"stdin", "memory", "cpus", "pids", "timeout", "network", "read_only"} <= set(schema["properties"])

        resources = (await session.list_resources()).resources
        assert [str(r.uri) for r in resources] == ["tui-sandbox://languages"]
        table = json.loads((await session.read_resource("tui-sandbox://languages")).contents[0].text)
        python = next(lang for lang in table if lang["name"] == "python")
        assert python["extensions"] == [".py"] and "py" in python["aliases"] and python["compiled"] is False
        assert {"python", "javascript", "bash", "c"} <= {lang["name"] for lang in table}

        answer = await run_code(session, language="python", code="print('hello')")
        assert not answer.is_error, text_of(answer)
        assert answer.structured_content["verdict"] == "ok"
        assert answer.structured_content["output"] == "hello\n"
        assert answer.structured_content["limits"]["network"] is False
        assert text_of(answer).startswith("OK: Finished normally · ")
        assert "--- output ---\nhello" in text_of(answer)

        # Its input, and a limit given as the CLI writes it.
        answer = await run_code(session, language="py", code="print(input()[::-1])", stdin="olleh\n", memory="64m")
        assert answer.structured_content["output"] == "hello\n"
        assert answer.structured_content["limits"]["memory_bytes"] == 64 << 20


async def test_a_timeout_and_an_oom_are_their_verdicts(sandbox, tmp_path):
    async with mcp_session(tmp_path) as session:
        answer = await run_code(session, language="python", code="while True: pass", timeout=1)
        assert not answer.is_error, text_of(answer)
        assert answer.structured_content["verdict"] == "timeout"
        assert text_of(answer).startswith("TIMEOUT: Timed out after 1 s and was killed · ")

        answer = await run_code(session, language="python", code=MEMORY_BOMB, memory="32m")
        assert answer.structured_content["verdict"] == "oom", text_of(answer)
        assert "Out of memory: killed at the 32 MiB limit" in text_of(answer)
        assert answer.structured_content["kill_reason"] in text_of(answer)


async def test_bad_arguments_are_tool_errors_and_the_server_goes_on(sandbox, tmp_path):
    async with mcp_session(tmp_path, "--max-memory", "256m", "--max-timeout", "20") as session:
        unknown = await run_code(session, language="cobol", code="DISPLAY 'HI'.")
        assert unknown.is_error and "unknown language 'cobol'" in text_of(unknown)
        assert "python" in text_of(unknown)     # the fix names those it has

        over = await run_code(session, language="python", code="print(1)", memory="1g")
        assert over.is_error
        assert "memory 1 GiB is over this server's ceiling of 256 MiB" in text_of(over)
        over = await run_code(session, language="python", code="print(1)", timeout=30)
        assert over.is_error and "timeout 30 s is over this server's ceiling of 20 s" in text_of(over)

        negative = await run_code(session, language="python", code="print(1)", timeout=-1)
        assert negative.is_error and "timeout -1 s must be more than zero" in text_of(negative)
        unreadable = await run_code(session, language="python", code="print(1)", memory="lots")
        assert unreadable.is_error and "cannot read 'lots' as a size" in text_of(unreadable)
        wrong_type = await run_code(session, language="python", code="print(1)", pids="many")
        assert wrong_type.is_error and "pids" in text_of(wrong_type)

        # Not asked: the ceilings' own lower defaults hold, not a refusal.
        answer = await run_code(session, language="python", code="print('still here')")
        assert answer.structured_content["output"] == "still here\n"
        assert answer.structured_content["limits"]["timeout_s"] == 10


async def test_no_engine_is_a_tool_error(tmp_path):
    # No Docker engine answers, then no server: each call says so and how to fix it; the server stays.
    async with mcp_session(tmp_path, env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}) as session:
        answer = await run_code(session, language="python", code="print(1)")
        assert answer.is_error and "fix:" in text_of(answer), text_of(answer)
        assert (await session.list_tools()).tools
        assert (await run_code(session, language="python", code="print(1)")).is_error
    async with mcp_session(tmp_path, "--server", "http://127.0.0.1:9") as session:
        answer = await run_code(session, language="python", code="print(1)")
        assert answer.is_error and "http://127.0.0.1:9" in text_of(answer) and "fix:" in text_of(answer)
        assert (await session.list_tools()).tools


async def test_through_a_server_its_history_has_the_runs(serve, tmp_path):
    server = serve("--max-memory", "512m")
    async with mcp_session(tmp_path, "--server", server.url, "--user", "an-agent") as session:
        answer = await run_code(session, language="python", code="print('via the server')")
        assert answer.structured_content["output"] == "via the server\n", text_of(answer)
        table = json.loads((await session.read_resource("tui-sandbox://languages")).contents[0].text)
        assert "python" in {lang["name"] for lang in table}
        # The server's own ceiling refuses what this side's (1g by default) lets by.
        over = await run_code(session, language="python", code="print(1)", memory="1g")
        assert over.is_error and "ceiling of 512 MiB" in text_of(over)

        # A call the client gives up on is cancelled there too, and its container removed.
        with pytest.raises(MCPError):
            await session.call_tool("run_code", {"language": "python", "code": "while True: pass", "timeout": 30},
                                    read_timeout_seconds=3)
        cancelled = await asyncio.to_thread(wait_until, lambda: server.client.get(
            "/runs", params={"user": "an-agent", "verdict": "cancelled"}).json()["runs"], 20)
        assert cancelled and cancelled[0]["duration_s"] < 25
    rows = server.client.get("/runs", params={"user": "an-agent"}).json()["runs"]
    assert [row["verdict"] for row in rows] == ["cancelled", "ok"]


async def test_a_client_that_goes_away_cancels_its_run(serve, tmp_path):
    server = serve()
    async with mcp_session(tmp_path, "--server", server.url, "--user", "gone") as session:
        call = asyncio.create_task(session.call_tool(
            "run_code", {"language": "python", "code": "while True: pass", "timeout": 30}))
        running = await asyncio.to_thread(wait_until, lambda: server.client.get(
            "/runs", params={"user": "gone"}).json()["runs"], 20)
        assert running and running[0]["state"] == "running"
        call.cancel()
    ended = await asyncio.to_thread(wait_until, lambda: server.client.get(
        "/runs", params={"user": "gone", "verdict": "cancelled"}).json()["runs"], 20)
    assert ended and ended[0]["duration_s"] < 25


def test_without_the_sdk_it_says_how_to_install_it():
    code = "import sys; sys.modules['mcp'] = None; from tui_sandbox.cli import main; sys.exit(main(['mcp']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        "tui-sandbox: tui-sandbox mcp needs the MCP SDK: pip install 'tui-sandbox[mcp]' (or pip install mcp)"]


def test_a_bad_ceiling_is_bad_usage():
    done = subprocess.run([sys.executable, "-m", "tui_sandbox", "mcp", "--max-timeout", "-3"], capture_output=True,
                          cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stderr.decode() == "tui-sandbox: --max-timeout must be more than zero\n"


def test_run_does_not_load_the_sdk(sandbox, tmp_path):
    program = tmp_path / "one.py"
    program.write_text("print(1)")
    code = ("import sys; from tui_sandbox.cli import main; main(['run', sys.argv[1], '--json']);"
            "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & {'mcp', 'mcp_types', 'pydantic'}))")
    done = subprocess.run([sys.executable, "-c", code, str(program)], capture_output=True, cwd=ROOT, timeout=60)
    assert done.stdout.decode().splitlines()[-1] == "LOADED []"


async def test_the_walls_a_program_hit_are_in_the_answer(sandbox, tmp_path):
    from ..engine.test_walls import FORKS

    async with mcp_session(tmp_path) as session:
        answer = await run_code(session, language="python", code=FORKS, pids=16)
        [wall] = answer.structured_content["blocked"]
        assert (wall["kind"], wall["call"], wall["errno"]) == ("process", "fork", "EAGAIN")
        assert f"wall: process  fork  blocked (EAGAIN): the PID limit of 16  ×{wall['count']}" in text_of(answer)
