"""A class's app opens, saves and writes reports only inside the student's own folder."""

import pytest

from runner import SourceError
from tui_sandbox.settings import Environment
from tui_sandbox.source_file import confine, read_source, write_source

FILES_DIR_ENV = Environment.NAMES["files_dir"]


def test_outside_the_students_folder_is_refused_links_included(tmp_path, monkeypatch):
    folder = tmp_path / "students" / "ada"
    folder.mkdir(parents=True)
    secret = tmp_path / "ssh_host_ed25519_key"
    secret.write_text("private")
    (folder / "escape").symlink_to(secret)
    monkeypatch.setenv(FILES_DIR_ENV, str(folder))
    assert confine(folder / "prog.py") == folder / "prog.py"
    assert confine(type(folder)("prog.py")) == folder / "prog.py"      # a plain name lands in the folder
    for outside in (secret, folder / ".." / ".." / "ssh_host_ed25519_key", folder / "escape"):
        with pytest.raises(SourceError, match="outside your folder"):
            confine(outside)
    with pytest.raises(SourceError, match="outside your folder"):
        read_source(folder / "escape")
    with pytest.raises(SourceError, match="outside your folder"):
        write_source(secret, "overwritten")
    assert secret.read_text() == "private"


def test_without_a_class_every_path_is_the_users_own(tmp_path, monkeypatch):
    monkeypatch.delenv(FILES_DIR_ENV, raising=False)
    assert confine(tmp_path / "anything.py") == tmp_path / "anything.py"
