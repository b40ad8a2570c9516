"""Heartbeats of running stages: the process's ticker stamps ``heartbeat_at`` every few seconds.

A stage whose heartbeat stops (its worker was killed) can be taken over by
the next delivery or the periodic re-drive after ``stage_lease_s``, without
waiting for Dramatiq's own redelivery, which can take very long (#527).
This is one small UPDATE per running stage per interval, never per progress tick.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import structlog
from sqlalchemy import update

from ytmaker.db.models import StageRun, StageStatus
from ytmaker.db.session import rowcount
from ytmaker.outages import OutageLog
from ytmaker.runtime import Runtime
from ytmaker.ticker import TICKER

log = structlog.get_logger(__name__)

JOB = "stage-heartbeats"
_lock = threading.Lock()
_OUTAGE = OutageLog("heartbeat")
_running: dict[tuple[int, str, str, object], Runtime] = {}


def stamp_if_running(rt: Runtime, project_id: str, stage: str) -> bool:
    """One beat for a stage handed on to other messages (fan-out parts, polls); False if it no longer runs."""
    with rt.db.single() as session:  # one UPDATE
        result = session.connection().execute(
            update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage,
                                   StageRun.status == StageStatus.RUNNING)
            .values(heartbeat_at=datetime.now(UTC)))
        return rowcount(result) == 1


@contextmanager
def beating(rt: Runtime, project_id: str, stage: str) -> Iterator[None]:
    # A token per holder: several threads may work on one stage at once (the image fan-out's segments),
    # and the first to finish must not stop the beat of the others.
    key = (id(rt), project_id, stage, object())
    with _lock:
        _running[key] = rt
    if not TICKER.has(JOB):
        TICKER.every(JOB, rt.settings.stage_heartbeat_s, _beat_all)
    try:
        yield
    finally:
        with _lock:
            _running.pop(key, None)


def _beat_all() -> None:
    with _lock:
        running = {(project_id, stage): rt for (_, project_id, stage, _token), rt in _running.items()}
    failure: Exception | None = None
    for (project_id, stage), rt in running.items():
        try:
            with rt.db.single() as session:  # one UPDATE
                session.execute(update(StageRun).where(StageRun.project_id == project_id, StageRun.stage == stage)
                                .values(heartbeat_at=datetime.now(UTC)))
        except Exception as exc:  # noqa: BLE001 - a missed beat is retried next interval
            failure = exc
    if failure is not None:
        _OUTAGE.failed(failure)  # one warning per outage, not one per stage and beat
    elif running:
        _OUTAGE.succeeded()
