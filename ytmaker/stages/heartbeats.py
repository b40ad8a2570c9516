"""Heartbeats of running stages: one thread per process stamps ``heartbeat_at`` every few seconds.

A stage whose heartbeat stops (its worker was killed) can be taken over by
the next delivery or the periodic re-drive after ``stage_lease_s``, without
waiting for Dramatiq's own redelivery, which can take very long (#527).
This is one small UPDATE per running stage per interval, never per progress tick.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import UTC, datetime

import structlog
from sqlalchemy import update

from ytmaker.db.models import StageRun, StageStatus

log = structlog.get_logger(__name__)

_lock = threading.Lock()
_running: dict[tuple[int, str, str, object], object] = {}
_thread: threading.Thread | None = None
_wake = threading.Event()


def stamp_if_running(rt, project_id: str, stage: str) -> bool:
    """One beat for a stage handed on to other messages (fan-out parts, polls); False if it no longer runs."""
    with rt.db.single() as session:  # one UPDATE
        result = session.connection().execute(
            update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                   StageRun.status == StageStatus.RUNNING)
            .values(heartbeat_at=datetime.now(UTC)))
        return result.rowcount == 1


@contextmanager
def beating(rt, project_id: str, stage: str):
    # A token per holder: several threads may work on one stage at once (the image fan-out's segments),
    # and the first to finish must not stop the beat of the others.
    key = (id(rt), project_id, stage, object())
    with _lock:
        _running[key] = rt
        _ensure_thread(rt.settings.stage_heartbeat_s)
    try:
        yield
    finally:
        with _lock:
            _running.pop(key, None)


def _ensure_thread(interval: float) -> None:
    global _thread
    if _thread is None or not _thread.is_alive():
        _thread = threading.Thread(target=_beat_forever, args=(interval,), name="ytmaker-heartbeat", daemon=True)
        _thread.start()


def _beat_forever(interval: float) -> None:
    while True:
        _wake.wait(interval)
        with _lock:
            running = {(project_id, stage): rt for (_, project_id, stage, _token), rt in _running.items()}
        for (project_id, stage), rt in running.items():
            try:
                with rt.db.single() as session:  # one UPDATE
                    session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage)
                                    .values(heartbeat_at=datetime.now(UTC)))
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried next interval
                log.warning("heartbeat_failed", project_id=project_id, stage=stage, error=type(exc).__name__)
