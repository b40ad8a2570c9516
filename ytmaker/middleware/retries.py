"""Retries decided by the error tree, with per-stage policy, instead of Dramatiq's Retries.

Dramatiq's Retries retries every exception and knows nothing of the
project. This one retries only transient errors, honours a provider's
``Retry-After``, reads the policy of the message's stage at run time, and on
the last failure dead-letters the message and hands the reason to
``on_give_up`` (which fails the project), so nothing hangs and nothing fails
silently. What a stage is, its policy and what to record are given to the
constructor: the middleware knows no pipeline module.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, cast

import dramatiq
import structlog
from dramatiq.middleware import Middleware

from ytmaker.config import StagePolicy
from ytmaker.errors import Cancelled, TransientError, WaitUntil, classify

log = structlog.get_logger(__name__)

#: actor name -> (stage, is one of the stage's parts), or None for actors that are not stages
StageOf = Callable[[str], "tuple[str, bool] | None"]
PolicyOf = Callable[[str], StagePolicy]
#: (project id, stage, reason, delay ms, attempt, the whole stage is retried rather than one part)
OnRetry = Callable[[str, str, str, int, int, bool], None]
#: (project id, stage, reason)
OnGiveUp = Callable[[str, str, str], None]


def backoff_ms(first_ms: int, retries: int, max_ms: int, rng: random.Random | None = None) -> int:
    """``first_ms`` doubled per earlier retry, with ±25 % jitter so retries don't arrive together."""
    base = min(max_ms, first_ms * (2 ** retries))
    jitter = (rng or random).uniform(0.75, 1.25)
    return max(1, int(min(max_ms, base * jitter)))


class StageRetries(Middleware):
    """Retry transient failures of stage actors; give up (fail the project) on permanent ones."""

    def __init__(self, *, stage_of: StageOf, policy: PolicyOf, on_retry: OnRetry, on_give_up: OnGiveUp) -> None:
        self.stage_of, self.policy, self.on_retry, self.on_give_up = stage_of, policy, on_retry, on_give_up

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        found = self.stage_of(message.actor_name)
        if exception is None or found is None:
            return
        stage, part = found
        error = classify(exception)
        if isinstance(error, Cancelled):  # the stage stopped because it was asked to: nothing failed, no dead letter
            return
        project_id = str(message.args[0]) if message.args else ""
        retries = message.options.get("retries", 0)
        policy = self.policy(stage)
        reason = str(error)
        if isinstance(error, WaitUntil) and error.retry_after is not None:  # a wait, not a failed attempt: retries untouched
            delay = max(1, int(error.retry_after * 1000))
            log.info("stage_wait", project_id=project_id, stage=stage, delay_ms=delay, reason=reason)
            _safely(self.on_retry, project_id, stage, reason, delay, 0, not part)  # attempt 0: a wait
            broker.enqueue(cast(dramatiq.Message, message), delay=delay)
            return
        if isinstance(error, TransientError) and retries < policy.max_retries:
            if error.retry_after is not None:
                delay = max(1, int(error.retry_after * 1000))
            else:
                delay = backoff_ms(policy.backoff_ms, retries, policy.max_backoff_ms)
            message.options["retries"] = retries + 1
            log.info("stage_retry", project_id=project_id, stage=stage, attempt=retries + 1, delay_ms=delay, reason=reason)
            _safely(self.on_retry, project_id, stage, reason, delay, retries + 1, not part)
            broker.enqueue(cast(dramatiq.Message, message), delay=delay)  # a proxy of the message, as Dramatiq's Retries sends it
            return
        if isinstance(error, TransientError):
            reason = f"{reason} (gave up after {retries + 1} attempts)"
        message.fail()  # to the dead-letter queue
        _safely(self.on_give_up, project_id, stage, reason)


def _safely(function: Callable[..., None], *args: Any) -> None:
    # Recording the outcome must not turn into a second failure that hides the first:
    # if the database is down too, the periodic re-drive repairs the records later.
    try:
        function(*args)
    except Exception as exc:  # noqa: BLE001
        log.error("stage_outcome_not_recorded", function=getattr(function, "__name__", "?"),
                  error=f"{type(exc).__name__}: {exc}")
