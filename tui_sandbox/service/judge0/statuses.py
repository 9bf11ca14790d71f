"""Judge0's statuses, and which one a run of ours has: from the job's state while it waits
or runs, then from its result's verdict (and, with an expected output, whether it passed).

    status_of(job_state, result)     # {"id": 4, "description": "Wrong Answer"}
"""

from __future__ import annotations

from runner import RunResult, Verdict

STATUSES = {1: "In Queue", 2: "Processing", 3: "Accepted", 4: "Wrong Answer", 5: "Time Limit Exceeded",
            6: "Compilation Error", 7: "Runtime Error (SIGSEGV)", 8: "Runtime Error (SIGXFSZ)",
            9: "Runtime Error (SIGFPE)", 10: "Runtime Error (SIGABRT)", 11: "Runtime Error (NZEC)",
            12: "Runtime Error (Other)", 13: "Internal Error", 14: "Exec Format Error"}
IN_QUEUE, PROCESSING, ACCEPTED, WRONG_ANSWER, TIME_LIMIT, COMPILATION_ERROR = 1, 2, 3, 4, 5, 6
SIGXFSZ, NZEC, OTHER, INTERNAL_ERROR = 8, 11, 12, 13
# Judge0's Status.find_runtime_error_by_status_code, by the signal's name.
BY_SIGNAL = {"SIGSEGV": 7, "SIGXFSZ": 8, "SIGFPE": 9, "SIGABRT": 10}


def status_id(state: str, result: RunResult | None) -> int:
    """A job's state (queued, running, finished, failed) and its result, as Judge0's id."""
    if state == "queued":
        return IN_QUEUE
    if state == "running":
        return PROCESSING
    if result is None:                      # the engine could not carry it out
        return INTERNAL_ERROR
    if result.compile_failed:
        return COMPILATION_ERROR
    verdict = result.verdict
    if verdict is Verdict.OK:
        return WRONG_ANSWER if result.passed is False else ACCEPTED
    if verdict is Verdict.TIMEOUT:
        return TIME_LIMIT
    if verdict is Verdict.OUTPUT_LIMIT:
        # Judge0 writes the output to files under a size limit: a flood there is SIGXFSZ.
        return SIGXFSZ
    if verdict is Verdict.ERROR or (verdict is Verdict.OOM and result.signal is None and result.exit_code):
        return NZEC
    if verdict in (Verdict.SIGNAL, Verdict.OOM):
        return BY_SIGNAL.get(result.signal or "", OTHER)
    return INTERNAL_ERROR                   # cancelled: stopped before it could end


def status_json(status: int) -> dict:
    return {"id": status, "description": STATUSES[status]}


def all_statuses() -> list[dict]:
    """GET /statuses."""
    return [status_json(status) for status in STATUSES]
