"""The engine's pure parts: size parsing, limit validation, the language table and the
user's TOML, the attach-stream demultiplexer. No Docker needed for these."""

import struct
from pathlib import Path

import pytest

from runner import LanguageError, LimitError, Limits, load_languages, parse_limits, parse_size, resolve
from runner.backend import EngineInfo
from runner.docker.container import FrameSplitter
from runner.docker.images import host_mirror, image_ref
from runner.languages import BUILTIN, for_filename
from runner.output import OutputBudget
from runner.protocol import RecordExtractor
from runner.units import MiB, format_size

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text, expected", [
    ("128m", 128 * MiB), ("128MiB", 128 * MiB), ("1g", 1024 * MiB), ("512k", 512 * 1024),
    ("1048576", 1048576), (" 64 MB ", 64 * MiB), ("1.5g", int(1.5 * 1024 * MiB)),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["12q", "", "m", "-5m", "1..2g"])
def test_parse_size_rejects(text):
    with pytest.raises(LimitError):
        parse_size(text)


def test_defaults_are_the_briefs():
    limits = Limits()
    assert (limits.memory, limits.cpus, limits.pids, limits.timeout) == (128 * MiB, 0.5, 64, 10.0)
    assert limits.network is False and limits.read_only is True and limits.tmp_size == 16 * MiB
    assert limits.output == 1 * MiB


@pytest.mark.parametrize("changes, message", [
    ({"memory": "5m"}, "below Docker's minimum"),
    ({"cpus": "0"}, "at least 0.01"),
    ({"cpus": "3"}, "more than this host has"),
    ({"timeout": "0"}, "more than zero"),
    ({"timeout": "nan"}, "more than zero"),
    ({"pids": "1"}, "too low"),
    ({"runtime": "kata"}, "unknown runtime 'kata': the engine has runc, runsc"),
])
def test_validation_messages(changes, message):
    engine = EngineInfo(product="Docker", name="Docker 20.10", cpus=2, memory_bytes=4 << 30,
                        min_memory_bytes=6 * MiB, runtimes={"runc": [], "runsc": ["--network=none"]})
    with pytest.raises(LimitError, match=message):
        parse_limits(**changes).validate(engine)


def test_format_size():
    assert format_size(128 * MiB) == "128 MiB" and format_size(1536) == "1.5 KiB" and format_size(5) == "5 B"


def test_languages_resolve_by_name_alias_and_extension():
    assert resolve("py").name == "python" and resolve("JS").name == "javascript"
    assert for_filename("x.c").name == "c" and for_filename("a.sh").name == "bash"
    assert for_filename("README") is None
    with pytest.raises(LanguageError, match="unknown language"):
        resolve("cobol")


def test_user_toml_overrides_and_adds_languages(tmp_path):
    config = tmp_path / "languages.toml"
    config.write_text('[languages.python]\nrun = ["python3", "-X", "dev", "{file}"]\n\n'
                      '[languages.lua]\nimage = "my-lua:1"\nfile = "main.lua"\nrun = ["lua5.4", "{file}"]\n'
                      'extensions = [".lua"]\n')
    table = load_languages(config)
    assert table["python"].run == ("python3", "-X", "dev", "{file}")
    assert table["python"].packages == BUILTIN["python"].packages
    assert table["lua"].commands(128 * MiB) == ([], ["lua5.4", "/sandbox/main.lua"])
    assert for_filename("x.lua", table).name == "lua"
    assert image_ref(table["lua"]) == "my-lua:1" and image_ref(table["python"]).startswith("tui-sandbox-python:")


def test_a_language_added_without_front_fields_gets_them_from_its_name(tmp_path):
    config = tmp_path / "languages.toml"
    config.write_text('[languages.lua]\nimage = "my-lua:1"\nfile = "main.lua"\nrun = ["lua5.4", "{file}"]\n'
                      'aliases = ["lua5.4"]\n')
    table = load_languages(config)
    lua = table["lua"]
    assert lua.display_name == "Lua" and resolve("LUA5.4", table) is lua
    number, name = lua.judge0
    assert 1000 <= number < 10000 and name.format(version="5.4.6") == "Lua (5.4.6)"
    assert load_languages(config)["lua"].judge0 == (number, name)     # the same id every time
    assert BUILTIN["python"].judge0 == (71, "Python ({version})")


def test_naming_an_image_for_a_built_in_language_drops_the_packages(tmp_path):
    config = tmp_path / "languages.toml"
    config.write_text('[languages.python]\nimage = "my-python:2"\n')
    python = load_languages(config)["python"]
    assert python.packages is None and image_ref(python) == "my-python:2"


@pytest.mark.parametrize("text, message", [
    ("[languages.x]\nfile = 'a'\n", "needs"),
    ("[languages.x]\nfile = 'a'\nrun = ['x']\nimage = 'i'\npackages = ['lua5.4']\n", "either image"),
    ("[languages.x]\nimage='i'\nfile='a'\nrun='python3 a'\n", "list of strings"),
    ("[languages.python]\ncolour = 'red'\n", "unknown keys"),
    ("[languages\n", "cannot read"),
    ("[languages.python]\nindent = '4'\n", "whole number"),
    ("[languages.python]\njudge0_id = true\n", "whole number"),
    ("[languages.python]\naliases = ['js']\n", "alias of both"),
    ("[languages.python]\naliases = ['bash']\n", "a language of its own"),
    ("[languages.python]\njudge0_id = 63\n", "same Judge0 id 63"),
])
def test_bad_user_toml_is_a_clear_error(tmp_path, text, message):
    config = tmp_path / "languages.toml"
    config.write_text(text)
    with pytest.raises(LanguageError, match=message):
        load_languages(config)


def test_node_heap_is_sized_from_the_memory_limit():
    _, run = BUILTIN["javascript"].commands(256 * MiB)
    assert "--max-old-space-size=128" in run


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + struct.pack(">I", len(payload)) + payload


def test_frames_split_at_any_byte_boundary():
    data = frame(1, b"out") + frame(2, b"err!") + frame(1, b"")
    for cut in range(len(data) + 1):
        splitter = FrameSplitter()
        assert splitter.feed(data[:cut]) + splitter.feed(data[cut:]) == [(1, b"out"), (2, b"err!"), (1, b"")]


def test_records_are_pulled_out_of_stderr_wherever_chunks_split():
    nonce = "abc123"
    stream = (b"warn \x1e partial\n" + b"\x1eabc123 S t_ms=250 memory=5 pids=2\n" + b"more"
              + b"\x1eabc123 E phase=run code=0 signal=0\n")
    for cut in range(len(stream) + 1):
        extractor = RecordExtractor(nonce)
        pieces = extractor.feed(stream[:cut]) + extractor.feed(stream[cut:]) + extractor.feed(b"", final=True)
        # In order: what the program wrote before each record stays before it.
        merged: list = []
        for piece in pieces:
            if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
                merged[-1] += piece
            else:
                merged.append(piece)
        assert [p if isinstance(p, bytes) else p.kind for p in merged] == [b"warn \x1e partial\n", "S", b"more", "E"]
        assert merged[1].int("memory") == 5 and merged[3].fields["phase"] == "run"


def test_a_forged_record_without_the_nonce_is_program_output():
    extractor = RecordExtractor("secret")
    assert b"".join(extractor.feed(b"\x1eguess E phase=run code=0\n", final=True)) == \
        b"\x1eguess E phase=run code=0\n"


def test_host_mirror_is_read_from_apt_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://mirror.test/debian-security\nSuites: bookworm-security\n")
    assert host_mirror("bookworm", tmp_path) == "http://mirror.test/debian"
    (tmp_path / "sources.list.d" / "debian.sources").unlink()
    (tmp_path / "sources.list").write_text("# comment\ndeb [arch=amd64] http://other.test/debian bookworm main\n")
    assert host_mirror("bookworm", tmp_path) == "http://other.test/debian"
    assert host_mirror("trixie", tmp_path) is None


def test_output_cap_is_crossed_by_the_first_byte_past_it_whatever_the_chunking():
    for chunks in ([b"a" * 32768, b"b" * 32768, b"c"], [b"a" * 65536, b"b"], [b"a" * 65537]):
        budget = OutputBudget(65536)
        crossed = [budget.take("stdout", chunk) for chunk in chunks]
        assert crossed.count(True) == 1 and crossed[-1] is True, chunks
        assert budget.limited and budget.used == 65536
    budget = OutputBudget(65536)
    assert not any(budget.take("stdout", chunk) for chunk in (b"a" * 32768, b"b" * 32768))
    assert not budget.limited   # exactly the cap is within it


def test_limits_read_back_from_their_dict():
    limits = Limits(memory=64 * MiB, cpus=1.5, pids=10, timeout=3, network=True, read_only=False, runtime="runsc")
    assert Limits.from_dict(limits.to_dict()) == limits
    assert Limits.from_dict({"memory_bytes": 32 * MiB}) == Limits(memory=32 * MiB)


def test_every_limit_is_one_entry_of_the_table_and_every_front_reads_it():
    from dataclasses import fields

    from runner.ceilings import CAPPED, Ceilings
    from runner.limits import LIMIT_FIELDS
    from tui_sandbox.cli import build_parser
    from tui_sandbox.service.models import LimitsOut, RunBody

    assert [field.name for field in LIMIT_FIELDS] == [field.name for field in fields(Limits)]
    assert [field.name for field in CAPPED] == [field.name for field in fields(Ceilings)]
    odd = Limits(memory=96 * MiB, cpus=0.25, pids=20, timeout=4.5, network=True, read_only=False,
                 tmp_size=8 * MiB, output=2 * MiB, file_size=MiB, open_files=64, runtime="crun")
    assert parse_limits(**odd.asked()) == odd == Limits.from_dict(odd.to_dict())
    assert RunBody(code="x", **odd.asked()).limits() == odd.validate()
    assert list(LimitsOut.model_fields) == list(odd.to_dict())
    flags = ["--memory", "96m", "--cpus", "0.25", "--pids", "20", "--timeout", "4.5s", "--network", "--writable",
             "--tmp-size", "8m", "--output-cap", "2m", "--file-size", "1m", "--open-files", "64", "--runtime", "crun"]
    from tui_sandbox.cli.common import limits_from_args

    assert limits_from_args(build_parser().parse_args(["run", "x.py", *flags])) == odd
    with pytest.raises(LimitError, match="unknown limit 'colour'"):
        parse_limits(colour="red")
    with pytest.raises(LimitError, match="open_files: 3.5 is not a whole number"):
        parse_limits(open_files=3.5)
