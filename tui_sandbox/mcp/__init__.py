"""`tui-sandbox mcp`: the engine as a tool for AI agents, over the Model Context Protocol
on stdio. An agent calls `run_code` (a language, the code, its input, limits within the
operator's ceilings) and reads the verdict, the output and the figures; the languages
are a resource.

runs.py is what the tool does, knowing nothing of the protocol (the limits, the run
carried out in a thread and cancelled with the request, the answer in words);
server.py is the protocol's side, on the official `mcp` SDK. Either engine serves:
`runner.Sandbox` here, or `tui_sandbox.remote.RemoteSandbox` for a `tui-sandbox serve`,
whose queue, caps and history the runs then go through.
"""
