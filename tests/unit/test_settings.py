"""Settings are one typed object, read once and written in one place; the environment's
TUI_SANDBOX_* variables are read in one place too. No engine needed."""

from __future__ import annotations

from tui_sandbox.settings import Environment, Settings


def test_missing_or_broken_settings_are_the_defaults(tmp_path):
    assert Settings.load(tmp_path / "none.toml") == Settings()
    broken = tmp_path / "broken.toml"
    broken.write_text("theme = [unclosed\n")
    assert Settings.load(broken) == Settings()


def test_a_value_of_the_wrong_kind_keeps_its_default_and_the_rest_are_read(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('theme = "projector"\nhistory = "yes"\nboth_ways = "sideways"\nunknown = 1\n')
    assert Settings.load(path) == Settings(theme="projector", history=True, both_ways="network")


def test_settings_survive_save_and_load(tmp_path):
    path = tmp_path / "conf" / "settings.toml"
    chosen = Settings().with_(theme="sandbox-light", history=False, both_ways="read_only")
    chosen.save(path)
    assert Settings.load(path) == chosen
    Settings().save(path)                       # no theme chosen: the key is left out
    assert "theme" not in path.read_text() and Settings.load(path) == Settings()


def test_an_unwritable_folder_only_means_nothing_is_remembered(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    Settings(theme="projector").save(blocker / "settings.toml")   # its parent is a file
    assert Settings.load(blocker / "settings.toml") == Settings()


def test_the_environment_is_read_by_its_names_and_empty_is_unset():
    env = Environment.read({"TUI_SANDBOX_SERVER": "http://t:8000", "TUI_SANDBOX_USER": "ada",
                            "TUI_SANDBOX_TOKEN": "", "TUI_SANDBOX_FILES_DIR": "/srv/ada", "HOME": "/root"})
    assert env == Environment(server="http://t:8000", user="ada", files_dir="/srv/ada")
    assert env.to_env() == {"TUI_SANDBOX_SERVER": "http://t:8000", "TUI_SANDBOX_USER": "ada",
                            "TUI_SANDBOX_FILES_DIR": "/srv/ada"}
    assert Environment.read(env.to_env()) == env
