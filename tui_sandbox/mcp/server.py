"""The Model Context Protocol's side of `tui-sandbox mcp`, on the official SDK's
MCPServer over stdio: the `run_code` tool and the `tui-sandbox://languages` resource.

Whatever goes wrong with one call (a bad language, a limit over a ceiling, no engine)
is that call's tool error, which the agent reads and can correct: never the server's
end. Standard output is the protocol's: nothing else may write to it.
"""

# No `from __future__ import annotations`: the SDK reads run_code's annotations for its
# schema, and their descriptions name the ceilings' defaults, local to build_server.
import asyncio
import json
from dataclasses import dataclass
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from runner import Engine, Sandbox, SandboxError
from runner.ceilings import Ceilings

from ..history.records import user_name
from ..remote import RemoteSandbox
from .runs import answer_text, carry_out, language_table, limits_for

LANGUAGES_URI = "tui-sandbox://languages"

INSTRUCTIONS = ("Runs untrusted code in a fresh, hardened, disposable container and says what happened: "
                "the verdict (ok, error, timeout, oom, output_limit, signal, cancelled), why, the output "
                "and error, the time and peak memory. The network is off and the root read-only unless "
                f"asked for. The languages are the resource {LANGUAGES_URI}.")


@dataclass(frozen=True)
class McpOptions:
    """What `tui-sandbox mcp` was started with: the ceilings, and a server to go
    through instead of the local engine."""
    ceilings: Ceilings = Ceilings()
    server: str | None = None
    user: str | None = None
    token: str | None = None

    def engine(self) -> Engine:
        if self.server:
            return RemoteSandbox(self.server, user=self.user or user_name(), token=self.token)
        return Sandbox()


def build_server(engine: Engine, ceilings: Ceilings) -> MCPServer:
    server = MCPServer("tui-sandbox", instructions=INSTRUCTIONS)
    top = ceilings.default_limits()

    @server.tool(name="run_code", title="Run code in a sandbox",
                 # Each run is in a container of its own, removed after: nothing of the host is touched.
                 annotations=ToolAnnotations(destructive_hint=False, idempotent_hint=False))
    async def run_code(
        language: Annotated[str, Field(description=f"python, javascript, bash, c, ... (see {LANGUAGES_URI})")],
        code: Annotated[str, Field(description="the program's source")],
        stdin: Annotated[str | None, Field(description="its standard input, then end of file")] = None,
        memory: Annotated[str | int | None, Field(description=f"memory limit, no swap: 64m, 1g or bytes "
                                                  f"(default {top.memory // 2**20}m)")] = None,
        cpus: Annotated[float | None, Field(description=f"CPU share (default {top.cpus:g})")] = None,
        pids: Annotated[int | None, Field(description=f"process limit (default {top.pids})")] = None,
        timeout: Annotated[float | None, Field(description=f"wall-clock seconds (default {top.timeout:g})")] = None,
        network: Annotated[bool | None, Field(description="network access (default off)")] = None,
        read_only: Annotated[bool | None, Field(description="read-only root, writable /tmp only "
                                                "(default on)")] = None,
    ) -> CallToolResult:
        """Run a program once in a fresh container, within limits, and answer its verdict,
        kill reason, output, error, run time and peak memory."""
        try:
            limits = limits_for(ceilings, memory=memory, cpus=cpus, pids=pids, timeout=timeout, network=network,
                                read_only=read_only)
            result = await carry_out(engine, code, language, limits, stdin)
        except SandboxError as exc:
            raise ToolError(str(exc)) from None
        return CallToolResult(content=[TextContent(type="text", text=answer_text(result))],
                              structured_content=result.to_dict())

    @server.resource(LANGUAGES_URI, name="languages", title="The languages run_code runs",
                     description="name, aliases, file extensions, and whether it is compiled",
                     mime_type="application/json")
    async def languages() -> str:
        try:
            return json.dumps(await asyncio.to_thread(language_table, engine))
        except SandboxError as exc:
            raise ResourceError(str(exc)) from None

    return server


def serve(options: McpOptions) -> int:
    """Serve on stdio until the client closes it; the engine is closed after the last
    run's thread has ended (and so its container is gone)."""
    engine = options.engine()
    try:
        build_server(engine, options.ceilings).run("stdio")
    finally:
        engine.close()
    return 0
