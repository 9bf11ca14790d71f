"""`serve`'s options, read before anything starts (no engine needed): tokens, the
loopback rule, and the help text's ceilings and defaults kept equal to the service's."""

from __future__ import annotations

import pytest

from runner import format_size
from runner.ceilings import CAPPED, Ceilings
from tui_sandbox.cli import build_parser
from tui_sandbox.serve import ServeError, ServeOptions, check_options, is_loopback, parse_tokens
from tui_sandbox.service.held import DEFAULT_FINISHED_BYTES


def test_tokens_from_flags_and_a_file(tmp_path):
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text("# names and tokens\nada=a-1\n\n  bob=b-2  \nbare-token\n")
    assert parse_tokens(["cy=c-3", "dGVzdA=="], [str(tokens_file)]) == {
        "c-3": "cy", "dGVzdA==": "default", "a-1": "ada", "b-2": "bob", "bare-token": "default"}
    # A token may hold "=" (base64): only NAME=TOKEN with a name-like NAME is split.
    assert parse_tokens(["abc=="]) == {"abc==": "default"}
    with pytest.raises(ServeError, match="one word"):
        parse_tokens(["ada=two words"])
    with pytest.raises(ServeError, match="the same token is given to ada and bob"):
        parse_tokens(["ada=same", "bob=same"])
    with pytest.raises(ServeError, match="cannot read the token file"):
        parse_tokens([], [str(tmp_path / "missing")])


def test_only_loopback_goes_without_a_token():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.org"))
    check_options(ServeOptions(host="127.0.0.1"))
    check_options(ServeOptions(host="0.0.0.0", tokens={"t": "ada"}))
    with pytest.raises(ServeError, match="refusing to serve on 0.0.0.0 without a token"):
        check_options(ServeOptions(host="0.0.0.0"))
    with pytest.raises(ServeError, match="--rate"):
        check_options(ServeOptions(rate="fast"))


def test_the_help_texts_defaults_are_the_services(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    defaults = Ceilings()
    for field in CAPPED:
        if field.kind != "switch":
            assert f"--max-{field.cli[2:]} {field.metavar}" in shown
            assert f"(default {field.show(getattr(defaults, field.name))})" in shown
    assert "(default 1 GiB)" in shown and "--no-network-allowed" in shown
    assert f"results (default {format_size(DEFAULT_FINISHED_BYTES, 'flag')})" in shown


def test_defaults_are_lowered_to_the_ceilings_not_refused():
    limits = Ceilings(memory=64 << 20, pids=16, timeout=3, network=False).default_limits()
    assert (limits.memory, limits.pids, limits.timeout, limits.cpus) == (64 << 20, 16, 3, 0.5)
