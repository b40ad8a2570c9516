"""Retries decided by the error tree, with per-stage policy, instead of Dramatiq's Retries.

Dramatiq's Retries retries every exception and knows nothing of the
project. This one retries only transient errors, honours a provider's
``Retry-After``, reads the policy of the message's stage at run time, and on
the last failure dead-letters the message and fails the project with the
reason, so nothing hangs and nothing fails silently.
"""

from __future__ import annotations

import random

import structlog
from dramatiq.middleware import Middleware

from ytmaker.errors import Cancelled, TransientError, classify

log = structlog.get_logger(__name__)


def backoff_ms(first_ms: int, retries: int, max_ms: int, rng: random.Random | None = None) -> int:
    """``first_ms`` doubled per earlier retry, with ±25 % jitter so retries don't arrive together."""
    base = min(max_ms, first_ms * (2 ** retries))
    jitter = (rng or random).uniform(0.75, 1.25)
    return max(1, int(min(max_ms, base * jitter)))


class StageRetries(Middleware):
    """Retry transient failures of stage actors; fail the project on permanent ones."""

    @property
    def actor_options(self):
        # "part": one piece of a fanned-out stage; its retry must not send the whole stage back to queued.
        return {"stage", "part"}

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is None:
            return
        actor = broker.get_actor(message.actor_name)
        stage = actor.options.get("stage")
        if stage is None:
            return
        from ytmaker.pipelines import flow
        from ytmaker.runtime import get_runtime

        rt = get_runtime()
        error = classify(exception)
        if isinstance(error, Cancelled):  # the stage stopped because it was asked to: nothing failed, no dead letter
            return
        project_id = str(message.args[0]) if message.args else ""
        retries = message.options.get("retries", 0)
        policy = rt.settings.policy(stage)
        reason = str(error)
        if isinstance(error, TransientError) and retries < policy.max_retries:
            if error.retry_after is not None:
                delay = max(1, int(error.retry_after * 1000))
            else:
                delay = backoff_ms(policy.backoff_ms, retries, policy.max_backoff_ms)
            message.options["retries"] = retries + 1
            log.info("stage_retry", project_id=project_id, stage=stage, attempt=retries + 1, delay_ms=delay, reason=reason)
            _safely(flow.note_retry, rt, project_id, stage, reason, delay, retries + 1, not actor.options.get("part"))
            broker.enqueue(message, delay=delay)
            return
        if isinstance(error, TransientError):
            reason = f"{reason} (gave up after {retries + 1} attempts)"
        message.fail()  # to the dead-letter queue
        _safely(flow.fail_stage, rt, project_id, stage, reason)


def _safely(function, *args) -> None:
    # Recording the outcome must not turn into a second failure that hides the first:
    # if the database is down too, the periodic re-drive repairs the records later.
    try:
        function(*args)
    except Exception as exc:  # noqa: BLE001
        log.error("stage_outcome_not_recorded", function=function.__name__, error=f"{type(exc).__name__}: {exc}")
