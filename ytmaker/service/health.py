"""/healthz (the process answers), /readyz (its database and Redis answer: which is down, if one is) and /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from ytmaker.metrics import QueueDepthCollector, metrics_dir
from ytmaker.runtime import Runtime

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def _check_database(rt: Runtime) -> str:
    try:
        with rt.db.single() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure is "down", named by its type (no URL, no secret)
        return f"down: {type(exc).__name__}"
    return "ok"


def _check_redis(rt: Runtime) -> str:
    if rt.redis is None:
        return "not used (embedded mode)"
    try:
        rt.redis.ping()
    except Exception as exc:  # noqa: BLE001
        return f"down: {type(exc).__name__}"
    return "ok"


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """200 when the database and Redis answer; 503 naming the one that does not."""
    rt: Runtime = request.app.state.rt
    checks = {"database": _check_database(rt), "redis": _check_redis(rt)}
    ready = all(not value.startswith("down") for value in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)


class StreamCollector:
    """The streams this API process holds open."""

    def __init__(self, hub) -> None:
        self.hub = hub

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        gauge = GaugeMetricFamily("ytmaker_api_stream_listeners", "SSE and WebSocket streams open in this API process.")
        gauge.add_metric([], self.hub.listeners)
        return [gauge]


def metrics_registry(rt: Runtime, hub):
    """The workers' counters on this machine (Dramatiq's, shared through their directory), queue depths, and our streams."""
    import prometheus_client as prom
    from prometheus_client import multiprocess

    registry = prom.CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=metrics_dir(rt.settings))
    if rt.redis is not None:
        registry.register(QueueDepthCollector(rt.redis))
    registry.register(StreamCollector(hub))
    return registry


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus exposition."""
    import prometheus_client as prom

    state = request.app.state
    if getattr(state, "metrics_registry", None) is None:
        state.metrics_registry = metrics_registry(state.rt, state.hub)
    return Response(prom.generate_latest(state.metrics_registry), media_type=prom.CONTENT_TYPE_LATEST)
