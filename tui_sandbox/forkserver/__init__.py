"""The fork server: every student's app a fork of one process that has imported it all once.

A student's app is the whole of Textual, Rich, tree-sitter's grammars, the app and httpx:
started as a process of its own, each one imports and builds all of it again, and holds it
alone (40 MiB PSS each, measured). Forked from a parent that has imported it already, the
pages stay shared until written. `python -m tui_sandbox.forkserver --socket PATH` imports
and builds what every app needs (preload.py), freezes the garbage collector's view of it
(so the children's collections do not write to, and so copy, the shared pages), then serves
the classroom on a Unix socket (server.py): one fork per request, which becomes the app as
`python -m tui_sandbox` would run it, on the fds it was sent (child.py). Each app is still a
process of its own, in a session of its own, in the student's folder, with the student's
environment: a crash of one reaches nobody else, nor the fork server.

The classroom never imports this package (it never loads Textual): it starts the process
and speaks to it (classroom/forks.py), in the wire format of classroom/fork_wire.py.

    preload.py   what is imported and built once, and re-read in each child
    server.py    the socket, the forks, the reaping, the exit statuses
    child.py     a fork becoming the app: its session, terminal, fds, folder, environment
"""
