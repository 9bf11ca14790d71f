"""The program's output on its way to the result: the cap on stdout and stderr together,
UTF-8 across reads, the stderr tail the verdicts read, and the init's records told apart
from the program's bytes however they arrive. Played back by a fake backend, no Docker."""

import pytest

from runner import Limits, Output, Stats, Verdict
from runner.output import STDERR_TAIL

from .fake_backend import Hang, done, end, err, finish, out, play, sample, together

KIB = Limits(output=1024)


def test_stdout_and_stderr_share_one_cap():
    events, container = play([together(out(b"o" * 600), err(b"e" * 600)), Hang()], limits=KIB)
    result = events[-1].result
    assert (result.output, result.error) == ("o" * 600, "e" * 424)
    assert result.truncated and result.verdict is Verdict.OUTPUT_LIMIT
    assert container.kills == 1


def test_what_comes_after_the_cut_is_dropped_from_both_streams():
    script = [out(b"a" * 1000), err(b"b" * 100), err(b"late error\n"), out(b"late output\n")]
    result = play(script, limits=KIB, exit_code=137)[0][-1].result
    assert (result.output, result.error) == ("a" * 1000, "b" * 24)
    assert result.truncated


def test_exactly_the_cap_is_within_it():
    events, container = play([out(b"a" * 1000), err(b"b" * 24), *finish(code=0)], limits=KIB)
    result = events[-1].result
    assert (result.verdict, result.truncated, len(result.output) + len(result.error)) == (Verdict.OK, False, 1024)
    assert container.kills == 0


def test_one_byte_past_a_cap_filled_exactly_is_cut():
    events, container = play([out(b"a" * 1024), out(b"b"), Hang()], limits=KIB)
    result = events[-1].result
    assert (result.output, result.truncated, result.verdict) == ("a" * 1024, True, Verdict.OUTPUT_LIMIT)
    assert container.kills == 1


def test_the_cap_counts_bytes_and_cuts_inside_a_character():
    # 1023 bytes, then a two-byte character: its first byte is the 1024th.
    result = play([out(b"a" * 1023 + "é".encode()), Hang()], limits=KIB)[0][-1].result
    assert result.output == "a" * 1023 + "\ufffd" and result.truncated


def test_utf8_split_across_reads_is_intact():
    result = play([out(b"caf\xc3"), out(b"\xa9 \xe2\x82"), out(b"\xac\n"), *finish(code=0)])[0][-1].result
    assert result.output == "café €\n"


def test_bad_bytes_become_replacement_characters():
    result = play([out(b"ok \xff\xfe\n"), err(b"cut \xc3"), *finish(code=0)])[0][-1].result
    assert (result.output, result.error) == ("ok \ufffd\ufffd\n", "cut \ufffd")


def test_only_the_tail_of_stderr_is_read_for_a_runtimes_message():
    early = play([err(b"MemoryError\n" + b"x" * STDERR_TAIL), *finish(code=1)])[0][-1].result
    assert early.kill_reason == "Exited with status 1"   # the message is out of the tail
    assert early.error.startswith("MemoryError\n")       # though all of stderr is kept
    late = play([err(b"x" * 3 * STDERR_TAIL), err(b"MemoryError\n"), *finish(code=1)])[0][-1].result
    assert late.kill_reason.startswith("Python raised MemoryError")


@pytest.mark.parametrize("size", [1, 2, 7, 50])
def test_records_split_across_reads_are_still_records(size):
    script = [out(b"hello\n"), err(b"warn\n", sample(250, cpu_ns=5, memory=7 * 1024, pids=2), b"more\n"),
              *finish(code=5, peak=9 * 1024)]
    events, container = play(script, split=size)
    result = events[-1].result
    assert container.reads > len(script)   # it did come in pieces
    assert (result.verdict, result.exit_code, result.peak_memory_bytes) == (Verdict.ERROR, 5, 9 * 1024)
    assert (result.output, result.error) == ("hello\n", "warn\nmore\n")
    assert [e for e in events if isinstance(e, Stats)] == [
        Stats(elapsed_s=0.25, cpu_percent=None, memory_bytes=7 * 1024, pids=2, reading_input=None)]


def test_bytes_before_a_record_in_the_same_read_stay_before_it():
    events, _ = play([err(b"warning: x\n", sample(0, memory=1), b"after\n"), *finish(code=0)])
    kinds = [(type(e).__name__, getattr(e, "text", None)) for e in events if isinstance(e, (Output, Stats))]
    assert kinds == [("Output", "warning: x\n"), ("Stats", None), ("Output", "after\n")]


def test_a_record_with_another_nonce_is_the_programs_own_bytes():
    forged = "0" * 32
    script = [
        err(b"before ", sample(0, memory=1, nonce=forged), end(code=0, nonce=forged), b"after\n"),
        out(done(nonce=forged), b"still running\n"),
        *finish(code=7),
    ]
    events, container = play(script)
    result = events[-1].result
    assert container.nonce != forged
    assert (result.verdict, result.exit_code) == (Verdict.ERROR, 7)   # the real report decides
    assert result.output == f"\x1e{forged} D\nstill running\n"
    assert result.error.startswith(f"before \x1e{forged} S t_ms=0 ")
    assert result.error.endswith(" files_watched=0\nafter\n")
    assert f"\x1e{forged} E phase=run exited=1 code=0 " in result.error
    assert not [e for e in events if isinstance(e, Stats)]


def test_a_record_separator_the_program_wrote_is_given_back_to_it():
    # Held back in case it begins a record; the next bytes show it did not.
    result = play([err(b"x\x1e"), err(b"y\n"), out(b"z\x1e"), *finish(code=0)])[0][-1].result
    assert (result.error, result.output) == ("x\x1ey\n", "z\x1e")


def test_the_start_of_a_record_at_the_very_end_is_the_programs():
    nonce_free = b"tail \x1e"   # a stream that ends (no report) on what could begin a record
    result = play([err(nonce_free)], exit_code=1)[0][-1].result
    assert result.error == "tail \x1e"
