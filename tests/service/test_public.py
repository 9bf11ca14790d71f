"""serve --public: a learning site's server, answering anyone without a token. Each
visitor is a user by address (a header naming someone else counts for nothing), held to
--rate (required), sees only their own runs, and nobody is the teacher."""

from __future__ import annotations

import subprocess
import sys

import httpx

from .conftest import ROOT


def serve_refuses(*args: str, tmp_path) -> str:
    refused = subprocess.run([sys.executable, "-m", "tui_sandbox", "serve", "--port", "0", *args],
                             capture_output=True, text=True, cwd=ROOT, timeout=30,
                             env={"XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert refused.returncode == 2 and refused.stdout == "", refused
    assert refused.stderr.count("\n") == 1, refused.stderr
    return refused.stderr


def test_public_is_explicit_and_needs_a_rate(tmp_path):
    assert "--public with a --rate" in serve_refuses("--host", "0.0.0.0", tmp_path=tmp_path)
    assert "--public needs --rate" in serve_refuses("--host", "0.0.0.0", "--public", tmp_path=tmp_path)
    assert "not both" in serve_refuses("--public", "--rate", "5/minute", "--token", "t-1", tmp_path=tmp_path)


def test_each_visitor_is_their_address_with_a_rate_of_their_own(serve):
    server = serve("--host", "0.0.0.0", "--public", "--rate", "2/minute")
    assert "public: anyone, each visitor a user by address" in server.line
    port = server.url.rsplit(":", 1)[1]
    ada = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers={"X-Sandbox-User": "teacher"})
    # Another visitor: another address (all of 127/8 is this machine's), under a site's own name.
    bob = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers={"Host": "course.example"},
                       transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    try:
        first = ada.post("/run", json={"code": "print(1)"}).json()
        kept = ada.get(f"/runs/{first['id']}").json()
        assert kept["user"] == "127.0.0.1", "a visitor is their address, whatever they call themselves"
        assert bob.get(f"/runs/{first['id']}").status_code == 404, "another visitor's run is not theirs to see"
        assert [run["id"] for run in bob.get("/runs").json()["runs"]] == []
        assert ada.post("/run", json={"code": "print(2)"}).status_code == 200
        limited = ada.post("/run", json={"code": "print(3)"})
        assert limited.status_code == 429 and "Retry-After" in limited.headers, limited.text
        assert bob.post("/run", json={"code": "print(4)"}).json()["output"] == "4\n", "a rate of their own"
        assert ada.get("/class").status_code == 403, "a public server has no teacher"
    finally:
        ada.close()
        bob.close()
