"""The engine's Docker client (runner/docker/client.py) against the real engine: what the
runs do not reach by themselves (a build, an import, the answers for what is not there)."""

from __future__ import annotations

import io
import tarfile
import uuid

import pytest

from runner.docker.backend import connect
from runner.docker.client import EngineClient, ImageNotFound, NotFound
from runner.docker.images import offline_base_ref
from runner.errors import EngineUnavailable


@pytest.fixture
def api():
    client = connect()
    yield client
    client.close()


def test_a_build_sends_the_folder_and_streams_docker_progress(api, tmp_path):
    (tmp_path / "Dockerfile.test").write_text("ARG BASE\nFROM $BASE\nCOPY greeting /greeting\nLABEL made=by-test\n")
    (tmp_path / "greeting").write_text("hello\n")
    ref = f"tui-sandbox-client-test:{uuid.uuid4().hex[:8]}"
    try:
        lines = list(api.build(tmp_path, dockerfile="Dockerfile.test", tag=ref,
                               buildargs={"BASE": offline_base_ref()}, labels={"test": "1"}))
        assert not [line for line in lines if "error" in line], lines
        assert any("Successfully tagged" in (line.get("stream") or "") for line in lines), lines
        labels = api.inspect_image(ref)["Config"]["Labels"]
        assert labels["made"] == "by-test" and labels["test"] == "1"
    finally:
        api.remove_image(ref)
    with pytest.raises(ImageNotFound):
        api.inspect_image(ref)


def test_an_imported_root_filesystem_becomes_an_image(api, tmp_path):
    tarball = tmp_path / "root.tar"
    with tarfile.open(tarball, "w") as tar:
        data = b"from a tarball\n"
        info = tarfile.TarInfo("etc/motd")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    tag = uuid.uuid4().hex[:8]
    api.import_image_from_file(str(tarball), repository="tui-sandbox-client-import", tag=tag)
    try:
        assert api.inspect_image(f"tui-sandbox-client-import:{tag}")["Size"] > 0
    finally:
        api.remove_image(f"tui-sandbox-client-import:{tag}")


def test_what_is_not_there_is_not_found_in_docker_words(api):
    with pytest.raises(NotFound) as missing:
        api.inspect_container("no-such-container-here")
    assert missing.value.status_code == 404 and "no-such-container-here" in missing.value.explanation
    with pytest.raises(NotFound):
        api.attach_socket("no-such-container-here", {"stdout": 1, "stream": 1})
    with pytest.raises(ImageNotFound):
        api.create_container({"Image": "tui-sandbox-no-such-image:1", "Cmd": ["true"]})


def test_many_calls_share_a_few_kept_alive_connections(api):
    for _ in range(50):
        assert api.ping()
    assert 1 <= len(api._idle) <= 2


def test_no_engine_at_the_socket_is_said_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    with pytest.raises(EngineUnavailable) as error:
        connect()
    assert f"no Docker engine at unix://{tmp_path}/docker.sock" in str(error.value)
    assert "start it" in error.value.fix


def test_an_engine_over_ssh_is_refused_with_the_way_to_reach_it():
    with pytest.raises(EngineUnavailable) as error:
        EngineClient("ssh://teacher@school")
    assert "only unix:// and tcp://" in str(error.value) and "ssh -L" in error.value.fix
