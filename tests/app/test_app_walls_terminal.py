"""The walls as a person at a real terminal sees them: the network experiment opened from
the command line, run with ctrl+r, and its walls drawn among the output, each on a line
of its own, with the banner's count."""

from __future__ import annotations

from ..terminal import AppAtTerminal


def test_the_walls_of_the_network_experiment_at_a_terminal(sandbox, tmp_path):
    app = AppAtTerminal("tui_sandbox/experiments/network.py",
                        env={"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")},
                        rows=40, columns=170)
    try:
        assert app.wait_for(lambda text: "Limits" in text), app.text
        app.type(b"\x12")                                            # ctrl+r
        ran = app.wait_for(lambda text: "NETWORK: OFF" in text and "2 walls hit" in text)
        assert ran, app.text
        lines = app.text.splitlines()
        dns = [line for line in lines if "▌ network  dns  example.com  blocked (EAI_AGAIN)" in line]
        connect = [line for line in lines
                   if "▌ network  connect  93.184.216.34:80/tcp  blocked (ENETUNREACH, predicted)" in line]
        assert len(dns) == 1 and len(connect) == 1, app.text
        for wall, said_next in ((dns[0], "look up example.com:"), (connect[0], "connect to 93.184.216.34:80:")):
            said = next(i for i, line in enumerate(lines) if said_next in line)
            assert lines.index(wall) < said, "a wall shows where it happened: before what the program said next"
        assert any("look up example.com:" in line for line in lines[lines.index(dns[0]):lines.index(connect[0])]), \
            "and after what it said before"
    finally:
        assert app.quit() == 0
