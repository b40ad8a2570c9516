"""Short in-call retries for HTTP providers, before Dramatiq's longer ones take over.

A provider call that fails with a :class:`~ytmaker.errors.TransientError` is
tried again a few times within the same message, with jittered exponential
waits, or after the provider's ``Retry-After`` when it sent one. A
``Retry-After`` longer than ``max_wait_s`` is not slept through here: the
error goes straight up, and the retries middleware delays the message by it,
so no worker thread sits idle for a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type
from tenacity.wait import wait_random_exponential

from ytmaker.errors import TransientError

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: Attempts in one call (the first one included).
DEFAULT_ATTEMPTS = 3
#: The longest single wait slept inside a call, in seconds.
DEFAULT_MAX_WAIT_S = 10.0
#: Scale of the first jittered wait, in seconds.
DEFAULT_FIRST_WAIT_S = 0.5


class QuickRetry:
    """Calls a function, retrying transient failures a few times with jitter.

    ``sleep`` is injectable so tests can count waits instead of sleeping.
    """

    def __init__(self, *, attempts: int = DEFAULT_ATTEMPTS, max_wait_s: float = DEFAULT_MAX_WAIT_S,
                 first_wait_s: float = DEFAULT_FIRST_WAIT_S, sleep: Callable[[float], None] = time.sleep) -> None:
        self.attempts = max(1, attempts)
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self._jitter = wait_random_exponential(multiplier=first_wait_s, max=max_wait_s)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            # The provider said when; a little jitter keeps workers from returning in lockstep.
            return retry_after + self._jitter(state) / 10
        return self._jitter(state)

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.attempts:
            return True
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is not None and retry_after > self.max_wait_s

    def __call__(self, fn: Callable[[], T], *, what: str) -> T:
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info("provider_retry", call=what, attempt=state.attempt_number, error=str(exc),
                     wait_s=round(state.next_action.sleep, 2) if state.next_action else None)

        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=self._stop,
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)
