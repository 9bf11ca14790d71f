"""The classroom's SSH front: `ssh -p PORT NAME@HOST` and the class code open a fresh app
for student NAME.

The server (ssh.py, on asyncssh) admits students; each session (session.py) runs the real
app in a process of its own on a real PTY (pty_session.py). The classroom never imports the
app: a crash of one session touches no other, nor the server. The host key is made once and
kept in the data directory (hostkey.py), so students never see "host identification
changed" after a restart.

    options.py   ClassOptions, add_ssh_flags(parser), class_options_from_args(args): light,
                 no asyncssh, for the command line
    cli.py       start_class(options) inside a running event loop (for `serve`);
                 run_ssh_class(options), blocking; `python -m tui_sandbox.classroom --ssh PORT`
    admission.py who may come in, by the same rules and words on both fronts (the name, the
                 class code, attempts per address, the one cap): Admission.sign_in, take_seat
    ssh.py       start_ssh_server(...) -> SSHClassServer: the server itself
    session.py   StudentSession: one student's app, pumped to and from an SSH channel
    web.py       the browser front (`serve --web PORT`, on textual-serve): its Server, then the
                 app's page (templates/app_index.html: textual-serve's, asking nothing of other
                 hosts); start_web_class(...)
    web_signin.py  the browser's sign-in page (name, class code) and its signed cookie
    web_app.py   StudentApp: one student's app in a tab (textual-serve's AppService)
    roster.py    ClassRoster: who is in the class now, by either front, and the one cap
                 (--max-sessions) both fronts share
    idle.py      the idle timeout, for both fronts
    forks.py     ForkServer: every app a fork of one pre-imported process (tui_sandbox/forkserver/,
                 started here as a process of its own), restarted when it dies, a plain process
                 when it cannot help; ForkedProcess, what the fronts hold of such an app
    fork_wire.py the messages the classroom and the fork server exchange (plain stdlib)
"""
