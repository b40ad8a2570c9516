"""Periodic jobs, sent by ``periodiq ytmaker.actors`` (one scheduler at a time, see below)."""

import dramatiq
from periodiq import cron

from ytmaker.recovery import LOCK_KEY, recover_once
from ytmaker.runtime import get_runtime

__all__ = ["LOCK_KEY", "recover_stalled"]


@dramatiq.actor(queue_name="scripts", periodic=cron("* * * * *"))
def recover_stalled() -> None:
    """Re-send stages whose message was lost and move on projects whose follow-up never left.

    periodiq has no lock, so two schedulers would send each tick twice; the
    Redis lock makes the second tick a no-op. Workers also run this pass
    every ``recovery_interval_s`` (ytmaker.middleware.recovery); this minute
    job is the fallback when that is switched off.
    """
    rt = get_runtime()
    interval = rt.settings.recovery_interval_s
    recover_once(rt, dramatiq.get_broker(), lock_ms=int(interval * 900) if interval > 0 else 50_000)
