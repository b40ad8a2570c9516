"""What a worker process runs with: the broker and middleware of the stages, wired to the pipeline.

This is the one place that joins the middleware (which knows no pipeline
module) to the pipeline's records: retries are noted and final failures
recorded by ``ytmaker.pipelines.flow``, policies come from the settings,
the recovery pass is ``ytmaker.recovery``. Entry points (``ytmaker.actors``,
the embedded runner) build their broker here.
"""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import AgeLimit, Callbacks, CurrentMessage, Middleware, ShutdownNotifications

from ytmaker.broker import PERIODIQ_SKIP_DELAY_S, build_broker, is_scheduler
from ytmaker.config import Settings, StagePolicy
from ytmaker.graph import stage_of_actor
from ytmaker.metrics import prometheus_middleware
from ytmaker.middleware import RecoveryLoop, StageRetries, StageTimeLimit
from ytmaker.pipelines import flow
from ytmaker.recovery import recover_once, resend_queued
from ytmaker.runtime import get_runtime


def stage_middleware() -> list[Middleware]:
    """Dramatiq's middleware for stage workers; ours replaces its Retries and TimeLimit."""
    return [
        AgeLimit(),
        StageTimeLimit(stage_of=stage_of_actor, policy=_policy),
        ShutdownNotifications(notify_shutdown=True),
        Callbacks(),
        CurrentMessage(),
        StageRetries(stage_of=stage_of_actor, policy=_policy, on_retry=_note_retry, on_give_up=_give_up),
        *_scheduler_middleware(),
        RecoveryLoop(recover=_recover, settings=lambda: get_runtime().settings, redis_lost=_redis_lost),
    ]


def _scheduler_middleware() -> list[Middleware]:
    # A worker imported by the scheduler's command (`periodiq ytmaker.actors`, the older Procfile line) schedules too.
    if not is_scheduler():
        return []
    from periodiq import PeriodiqMiddleware  # type: ignore[import-untyped]  # periodiq ships no type information

    return [PeriodiqMiddleware(skip_delay=PERIODIQ_SKIP_DELAY_S)]


def build_worker_broker(settings: Settings) -> dramatiq.Broker:
    broker = build_broker(settings, stage_middleware())
    metrics = prometheus_middleware(settings)
    if metrics is not None:  # queue depth, latency, failures for Prometheus (docs/scale-out.md)
        broker.add_middleware(metrics)
    return broker


def _policy(stage: str) -> StagePolicy:
    return get_runtime().settings.policy(stage)


def _note_retry(project_id: str, stage: str, reason: str, delay_ms: int, attempt: int, whole_stage: bool) -> None:
    flow.note_retry(get_runtime(), project_id, stage, reason, delay_ms, attempt, requeue=whole_stage)


def _give_up(project_id: str, stage: str, reason: str) -> None:
    flow.fail_stage(get_runtime(), project_id, stage, reason)


def _recover(lock_ms: int) -> None:
    recover_once(get_runtime(), lock_ms=lock_ms)


def _redis_lost() -> None:
    resend_queued(get_runtime())
