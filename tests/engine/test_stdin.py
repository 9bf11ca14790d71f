"""A running program's standard input stays open when the run is interactive: what is
sent arrives in order, close_input is end of file, and the deadline still holds."""

from __future__ import annotations

import time

import pytest

from runner import Finished, Limits, Output, Verdict

ASK = {
    "python": 'name = input("Your name? ")\nprint("Hello,", name)\n',
    # read -p prompts only on a terminal: a plain printf prompts anywhere.
    "bash": 'printf "Your name? "\nread name\necho "Hello, $name"\n',
    "c": '#include <stdio.h>\nint main(void) { char name[64]; printf("Your name? "); fflush(stdout);\n'
         '  if (scanf("%63s", name) == 1) printf("Hello, %s\\n", name); return 0; }\n',
    "javascript": 'const rl = require("readline").createInterface({input: process.stdin});\n'
                  'process.stdout.write("Your name? ");\n'
                  'rl.on("line", (name) => { console.log("Hello, " + name); rl.close(); });\n',
}


def converse(sandbox, source: str, language: str, answer: str, **limits):
    """Start a run, answer once its prompt has shown, then close its input."""
    run = sandbox.start(source, language, Limits(**limits), interactive=True)
    seen = ""
    for event in run.events():
        if isinstance(event, Output):
            seen += event.text
            if "?" in seen and answer:
                run.send_input(answer)
                run.close_input()
                answer = ""
        elif isinstance(event, Finished):
            return event.result
    raise AssertionError("no result")


@pytest.mark.parametrize("language", sorted(ASK))
def test_a_program_asks_and_gets_its_answer(sandbox, language):
    result = converse(sandbox, ASK[language], language, "Ada\n")
    assert result.verdict is Verdict.OK, result.kill_reason + result.error
    assert result.output.endswith("Hello, Ada\n")


def test_under_gvisor_too(sandbox):
    result = converse(sandbox, ASK["python"], "python", "Grace\n", runtime="runsc")
    assert result.verdict is Verdict.OK and result.output.endswith("Hello, Grace\n")


def test_input_sent_before_the_run_begins_waits_for_it_in_order(sandbox):
    run = sandbox.start("import sys; print(sys.stdin.read().split())", "python", interactive=True)
    run.send_input("one ")
    run.send_input(b"two ")
    run.close_input()
    result = [e for e in run.events() if isinstance(e, Finished)][0].result
    assert result.output == "['one', 'two']\n"


def test_a_program_waiting_for_input_still_times_out(sandbox):
    run = sandbox.start("input()", "python", Limits(timeout=1.5), interactive=True)
    result = [e for e in run.events() if isinstance(e, Finished)][0].result
    assert result.verdict is Verdict.TIMEOUT and result.duration_s < 3


def test_a_large_input_does_not_block_the_sender_or_deadlock(sandbox):
    run = sandbox.start("import sys; data = sys.stdin.read(); print(len(data))", "python", interactive=True)
    for _ in range(16):
        run.send_input("x" * 65536)    # 1 MiB, more than any pipe holds
    run.close_input()
    result = [e for e in run.events() if isinstance(e, Finished)][0].result
    assert result.output == f"{16 * 65536}\n"


def test_only_an_interactive_run_takes_input_later(sandbox):
    run = sandbox.start("print(1)", "python", stdin="given whole")
    with pytest.raises(ValueError, match="not interactive"):
        run.send_input("more")
    assert [e for e in run.events() if isinstance(e, Finished)][0].result.verdict is Verdict.OK


@pytest.mark.parametrize("language, source", [
    ("python", "x = input()\nwhile True: pass"),
    # Node waits in epoll, on a set that holds its stdin, not in read(0).
    ("javascript", "require('readline').createInterface({input: process.stdin})"
                   ".on('line', () => { while (true) {} })"),
    ("bash", "read x\nwhile true; do :; done"),
])
def test_the_samples_say_when_the_program_waits_for_its_input(sandbox, language, source):
    from runner import Stats

    run = sandbox.start(source, language, Limits(timeout=3), interactive=True)
    waiting = []
    for event in run.events():
        if isinstance(event, Stats) and event.reading_input is not None:
            waiting.append(event.reading_input)
            if event.reading_input and waiting.count(True) == 2:
                run.send_input("go\n")   # after two samples that saw it wait
    # It waited for its input (the very first sample may come while Python still starts),
    # then, answered, it computed until its timeout.
    assert waiting.count(True) >= 2 and waiting[-1] is False
    first_wait = waiting.index(True)
    assert all(waiting[first_wait:first_wait + 2])


def test_a_program_waiting_on_a_timer_is_not_waiting_for_input(sandbox):
    from runner import Stats

    # In epoll as a reader is, but its set does not hold stdin.
    source = "let n = 0; const t = setInterval(() => { if (++n === 20) clearInterval(t); }, 50)"
    run = sandbox.start(source, "javascript", interactive=True)
    seen = [e.reading_input for e in run.events() if isinstance(e, Stats) and e.reading_input is not None]
    assert seen and not any(seen)


@pytest.mark.parametrize("source, answers, output", [
    # Answered, then rl.close(): it ends, as at a terminal, though its input stays open.
    ("const rl = require('readline').createInterface({input: process.stdin, output: process.stdout});\n"
     "rl.question('Name? ', (name) => { console.log('Hello, ' + name); rl.close(); });",
     ["Ada\n"], "Name? Hello, Ada"),
    # A paused stdin that is read again later still gets what comes.
    ("process.stdin.once('data', (d) => { console.log('first', String(d).trim()); process.stdin.pause();\n"
     "  setTimeout(() => { process.stdin.once('data', (e) => { console.log('then', String(e).trim());\n"
     "    process.stdin.pause(); }); process.stdin.resume(); }, 200); });",
     ["one\n", "two\n"], "first one\nthen two"),
])
@pytest.mark.parametrize("runtime", ["runc", "runsc"])
def test_a_node_program_done_with_its_input_ends_without_end_of_file(sandbox, source, answers, output, runtime):
    run = sandbox.start(source, "javascript", Limits(timeout=5, runtime=runtime), interactive=True)
    run.send_input(answers[0])
    result = None
    for event in run.events():
        if isinstance(event, Output) and "first" in event.text:
            time.sleep(0.5)              # the program has paused its input by now
            run.send_input(answers[1])
        if isinstance(event, Finished):
            result = event.result
    assert result.verdict is Verdict.OK and result.output.strip() == output and result.duration_s < 3


def test_a_node_program_still_reads_all_its_input_from_fd_0(sandbox):
    source = "const lines = require('fs').readFileSync(0, 'utf8').split('\\n'); console.log(lines.length)"
    assert sandbox.run(source, "javascript", stdin="a\nb\nc\n").output == "4\n"
