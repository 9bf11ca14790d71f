"""The fake backend writes what the real init writes: its records' keys and framing are
read from runner/images/init.c, so a change there that the fake misses fails here."""

import re
from pathlib import Path

from runner.protocol import RecordExtractor

from .fake_backend import done, end, finish, sample, wall

INIT_C = (Path(__file__).parents[2] / "runner" / "images" / "init.c").read_text()


def init_formats() -> dict[str, list[tuple[str, list[str]]]]:
    """Each record kind -> (the stream it goes to, its keys), for every record() call in init.c."""
    formats: dict[str, list[tuple[str, list[str]]]] = {}
    for stream, literals in re.findall(r'record\((\w+)_stream, (?:[01]|!\w+), ((?:\s*"[^"]*")+)', INIT_C):
        words = "".join(re.findall(r'"([^"]*)"', literals)).split()
        formats.setdefault(words[0], []).append((stream, [word.split("=")[0] for word in words[1:]]))
    return formats


def test_the_fakes_records_have_the_inits_keys_in_its_order():
    formats = init_formats()
    assert formats["S"] == [("err", [key for key, _ in sample(0).fields])]
    assert formats["E"] == [("err", [key for key, _ in end().fields])]
    assert formats["D"] == [("out", []), ("err", [])]
    # Said at the first hit and as the count moves: the same keys both times.
    assert {("err", tuple(key for key, _ in wall("mount", 1).fields))} == {
        (stream, tuple(keys)) for stream, keys in formats["W"]}


def test_the_fake_ends_a_run_as_the_init_does():
    # end_record() on stderr, then finish(): D on stdout, then on stderr.
    assert re.search(r'end_record\("run", &r\);\s*return finish\(&r\);', INIT_C)
    assert [write.chunks[0][0] for write in finish()] == ["stderr", "stdout", "stderr"]


def test_the_fake_frames_a_record_as_the_init_does():
    assert 'snprintf(buf, sizeof buf, "\\x1e%s ", nonce)' in INIT_C and "buf[n++] = '\\n';" in INIT_C
    nonce = "ab" * 16
    assert done().render(nonce) == b"\x1e" + nonce.encode() + b" D\n"
    [record] = RecordExtractor(nonce).feed(end(code=3, peak=4096).render(nonce))
    assert (record.kind, record.int("code"), record.int("peak"), record.int("cpu_ns")) == ("E", 3, 4096, None)


def test_a_signal_is_written_as_the_init_writes_a_wait_status():
    # WIFEXITED false: exited=0 and code=-1, whatever the caller said.
    fields = dict(end(code=5, signal=11).fields)
    assert (fields["exited"], fields["code"], fields["signal"]) == (0, -1, 11)
    assert 'WIFEXITED(status) ? WEXITSTATUS(status) : -1' in INIT_C
