"""What the server is and has, over HTTP: the languages it runs, its health (engine,
images, queue, ceilings) and, for the teacher, the class live (and its demo: demo.py)."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from runner import SandboxError

from . import demo
from .access import current_user, is_teacher, service_of
from .classview import class_view, refuse_unless_teacher
from .errors import error_responses, retry_after
from .interface import Service
from .models import ClassView, EngineHealth, ErrorBody, FinishedHealth, Health, LanguageOut, QueueHealth

# How long /health waits for the engine before it says it does not answer.
HEALTH_TIMEOUT_S = 5.0

router = APIRouter()
router.include_router(demo.router)


@router.get("/languages", response_model=list[LanguageOut], responses=error_responses(401),
            summary="The languages this server runs")
async def languages(request: Request, user: str = Depends(current_user)) -> list[LanguageOut]:
    table = service_of(request).sandbox.languages
    return [LanguageOut(name=lang.name, aliases=sorted(lang.aliases),
                        extensions=list(lang.extensions), compiled=bool(lang.compile))
            for lang in table.values()]


@router.get("/health", response_model=Health, responses={503: {"model": Health, "description": "Not ready: "
                                                               "no engine, an image missing, or stopping."}},
            summary="Engine reachable, images present, queue length (503 when not ready)")
async def health(request: Request):
    service = service_of(request)
    try:
        engine, images = await asyncio.wait_for(asyncio.to_thread(_probe_engine, service), HEALTH_TIMEOUT_S)
    except TimeoutError:
        engine, images = EngineHealth(reachable=False, error=f"the engine did not answer within "
                                      f"{HEALTH_TIMEOUT_S:g} s"), {}
    ok = engine.reachable and all(images.values()) and not service.stopping
    jobs = service.jobs
    finished = FinishedHealth(runs=jobs.finished_count, bytes=jobs.finished_bytes, budget_bytes=jobs.budget_bytes)
    report = Health(ok=ok, engine=engine, images=images, queue=QueueHealth(**service.status()), finished=finished,
                    stopping=service.stopping, ceilings=service.ceilings.to_dict(),
                    uptime_s=round(time.time() - service.started_at, 3))
    return JSONResponse(report.model_dump(), status_code=200 if ok else 503,
                        headers=None if ok else retry_after(None))


@router.get("/class", response_model=ClassView,
            responses={**error_responses(401, 422, 503),
                       403: {"model": ErrorBody, "description": "The token is not the teacher's."}},
            summary="The class, live, for the teacher",
            description="Who is connected, over SSH (serve --ssh) or in a browser (serve --web), each with "
            "the front they use; who runs what (language, time, memory), who waits, each student's last verdict "
            "and counts, the queue, and the totals (runs, timeouts, OOM kills, by verdict). Ended runs count "
            "from `since`, by default this server's start. With tokens, only the token of the user named "
            "**teacher** may read it (that token may also cancel any run: DELETE /runs/{id}); without tokens "
            "the server answers on loopback alone, and anyone there may.")
async def the_class(request: Request, user: str = Depends(current_user),
                    since: float | None = Query(None, ge=0, description="Count ended runs from this Unix time "
                                                "(default: when this server started; 0: the whole history).")
                    ) -> ClassView:
    if not is_teacher(request):
        raise refuse_unless_teacher()
    state = request.app.state
    return await class_view(service_of(request), getattr(state, "class_sessions", None), since,
                            fronts=getattr(state, "class_fronts", ()))


def _probe_engine(service: Service) -> tuple[EngineHealth, dict[str, bool]]:
    """Ask the engine now (not a cached answer): is it there, are the images built."""
    sandbox = service.sandbox
    try:
        info = sandbox.info
        images = {status.language: status.present for status in sandbox.images()}
        return EngineHealth(reachable=True, name=info.name, runtimes=sorted(info.runtimes)), images
    except SandboxError as exc:
        return EngineHealth(reachable=False, error=exc.message, fix=exc.fix), {}
    except Exception as exc:  # noqa: BLE001 - whatever the engine's client raises, it is not there
        return EngineHealth(reachable=False, error=f"the engine does not answer: {exc}",
                            fix="check that the Docker engine is running (tui-sandbox doctor)"), {}
