"""How a run asked of the service ends where no engine gave the end: a result for a run
that never reached a container, and the history's row of any run. The embedded service
and the cluster's workers and fronts make them alike."""

from __future__ import annotations

from runner import RunResult, Verdict

from ..history.store import RunRecord
from .requests import RunRequest


def unrun_result(request: RunRequest, language: str, reason: str) -> RunResult:
    """A run cancelled before it had a container (language: the language's own name)."""
    return RunResult(verdict=Verdict.CANCELLED, exit_code=None, signal=None, kill_reason=reason,
                     output="", error="", duration_s=0.0, peak_memory_bytes=None, truncated=False,
                     language=language, runtime=request.limits.runtime, limits=request.limits)


def record_of(run_id: str, request: RunRequest, *, queued_at: float, started_at: float | None, stdin: str,
              result: RunResult | None = None, failure_message: str = "") -> RunRecord:
    """The history's row of a run: its result's, or, without one, an engine_error row
    saying failure_message."""
    if result is not None:
        return RunRecord.of_result(id=run_id, user=request.user, origin=request.origin, source=request.source,
                                   result=result, queued_at=queued_at, started_at=started_at, stdin=stdin)
    return RunRecord.of_failure(id=run_id, user=request.user, origin=request.origin, source=request.source,
                                language=request.language, limits=request.limits, message=failure_message,
                                queued_at=queued_at, started_at=started_at, stdin=stdin)
