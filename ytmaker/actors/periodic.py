"""Periodic jobs, sent by ``periodiq ytmaker.actors`` (one scheduler at a time, see below)."""

import dramatiq
import structlog
from periodiq import cron

from ytmaker.pipelines import flow
from ytmaker.runtime import get_runtime

log = structlog.get_logger(__name__)
LOCK_KEY = "ytmaker:lock:recover_stalled"


@dramatiq.actor(queue_name="scripts", periodic=cron("* * * * *"))
def recover_stalled() -> None:
    """Re-send stages whose message was lost and move on projects whose follow-up never left.

    periodiq has no lock, so two schedulers would send each tick twice; the
    Redis lock makes the second tick a no-op.
    """
    rt = get_runtime()
    if not rt.redis.set(LOCK_KEY, "1", nx=True, ex=50):
        return
    sent = flow.redrive(rt, older_than_s=rt.settings.redrive_after_s)
    if sent:
        log.warning("redriven", count=len(sent), stages=sent[:20])
