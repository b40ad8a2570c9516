"""The ASGI app: the JSON API under /api/v1, its event streams, health, metrics, and the page.

``create_app(rt)`` builds it on a runtime (the process's by default). In embedded mode
(no Redis) it also runs the in-process worker for its lifetime, so ``ytmaker serve``
alone makes videos; in distributed mode it only serves, and the workers do the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import configure_mappers
from starlette.concurrency import run_in_threadpool

from ytmaker.errors import InputTooLarge, PermanentError, ProjectNotFound, TransientError, YtmakerError
from ytmaker.projects import prepare_project
from ytmaker.runtime import Runtime
from ytmaker.service import auth, batches_api, events, health, projects_api
from ytmaker.service.hub import Hub
from ytmaker.service.middleware import BodyLimit, SecurityHeaders
from ytmaker.service.projects_api import CreationLimits
from ytmaker.wakeup import WakeupRedisBroker

STATIC = Path(__file__).parent / "static"
log = structlog.get_logger(__name__)


def _status_of(exc: YtmakerError) -> int:
    if isinstance(exc, ProjectNotFound):
        return 404
    if isinstance(exc, InputTooLarge):
        return 413
    if isinstance(exc, PermanentError):
        return 422
    return 503 if isinstance(exc, TransientError) else 500


def _default_runtime() -> Runtime:
    from ytmaker.config import Settings
    from ytmaker.db.migrate import upgrade
    from ytmaker.runtime import get_runtime

    if Settings().embedded:  # the worker's broker, with every actor declared on it
        from ytmaker.embedded import process_runtime

        rt = process_runtime()
    else:  # sends by actor name only: the actors and what they import stay out of the API process
        rt = get_runtime()
    upgrade(rt.db)
    return rt


#: database connections each pool opens before the first request (the pools keep up to 10)
WARM_CONNECTIONS = 4
#: validated once at start, not stored: a first text in each script loads the detector, the voices and the fonts
WARM_TEXTS = ("A text to warm up with.", "用来预热的一段文字。")


def warm_up(rt: Runtime) -> None:
    """Before the server takes requests: what the first ones would otherwise each wait for. Measured on
    ``POST /projects``: the first creation took 69 ms against 3–4 after it (the ORM's mappers configured,
    PostgreSQL connections opened, the enqueue script loaded into Redis), and a burst at 100/s reaching a
    cold server waited up to 178 ms in its first second (bench/live); the first text's checks took 17 ms in
    English and 61 in Chinese, 0.3 after. A service that is down now is only logged:
    ``/readyz`` says so, and the requests reconnect."""
    steps: list[Callable[[], object]] = [configure_mappers, *[partial(prepare_project, rt, text) for text in WARM_TEXTS],
             partial(rt.db.prefill, WARM_CONNECTIONS)]
    if isinstance(rt.broker, WakeupRedisBroker):
        steps.append(rt.broker.load_scripts)
    for step in steps:  # each on its own: a text this machine cannot draw (no CJK font) still leaves the rest warm
        try:
            step()
        except Exception as exc:  # noqa: BLE001  (a cold start is slower, not wrong)
            log.warning("warm_up_failed", error=str(exc))


def create_app(rt: Runtime | None = None, *, worker: bool | None = None, public: bool = False) -> FastAPI:
    """The service on ``rt``; ``worker``: run the in-process worker (default: in embedded mode);
    ``public``: the server listens beyond loopback, so it refuses every request until a token exists."""
    runtime = rt or _default_runtime()
    run_worker = runtime.settings.embedded if worker is None else worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.hub.start()
        await run_in_threadpool(warm_up, runtime)
        embedded = None
        if run_worker:
            from ytmaker.embedded import EmbeddedWorker
            from ytmaker.runtime import set_runtime

            set_runtime(runtime)
            embedded = EmbeddedWorker(runtime, runtime.settings.embedded_threads).__enter__()
        try:
            yield
        finally:
            if embedded is not None:
                embedded.__exit__(None, None, None)
            await app.state.hub.stop()

    app = FastAPI(title="ytmaker", version="1", lifespan=lifespan,
                  description="Text to narrated video. Progress is pushed: Server-Sent Events and WebSocket.")
    app.state.rt = runtime
    app.state.public = public
    app.state.hub = Hub(runtime.progress, runtime.settings.redis_url, heartbeat_s=runtime.settings.api_heartbeat_s)
    app.state.limits = CreationLimits(runtime)

    @app.exception_handler(YtmakerError)
    async def ytmaker_error(_request: Request, exc: YtmakerError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_status_of(exc))

    for router in (projects_api.router, batches_api.router, events.router, auth.router, health.router):
        app.include_router(router)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=runtime.settings.api_max_body_bytes,
                       max_upload_bytes=runtime.settings.api_max_upload_bytes)
    origins = [o.strip() for o in runtime.settings.cors_origins.split(",") if o.strip()]
    if origins:  # off unless asked for: the page is served from this origin
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Last-Event-ID"])
    from ytmaker.service import page

    app.include_router(page.router)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
