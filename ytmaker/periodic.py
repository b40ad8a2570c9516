"""Periodic jobs: scheduled by ``periodiq ytmaker.scheduler``, run by the stage workers (``ytmaker.actors``).

Declared in both processes; only the scheduler's declaration carries the
schedule, and only the workers run the bodies, so what a body needs is
imported when it runs: the scheduler stays a small process.
"""

from typing import Any

import dramatiq

from ytmaker.broker import is_scheduler


def _schedule(spec: str) -> dict[str, Any]:
    """The ``periodic`` option in the scheduler's process; none in a worker's, which only runs the ticks."""
    if not is_scheduler():
        return {}
    from periodiq import cron  # type: ignore[import-untyped]  # periodiq ships no type information

    return {"periodic": cron(spec)}


@dramatiq.actor(queue_name="scripts", **_schedule("* * * * *"))
def recover_stalled() -> None:
    """Re-send stages whose message was lost and move on projects whose follow-up never left.

    periodiq has no lock, so two schedulers would send each tick twice; the
    lock in ``recover_once`` makes the second tick a no-op. Workers also run
    this pass every ``recovery_interval_s`` (``ytmaker.middleware.recovery``);
    this minute job is the fallback when that is switched off.
    """
    from ytmaker.recovery import recover_once  # the workers' (see the module docstring)
    from ytmaker.runtime import get_runtime

    rt = get_runtime()
    interval = rt.settings.recovery_interval_s
    recover_once(rt, lock_ms=int(interval * 900) if interval > 0 else 50_000)


@dramatiq.actor(queue_name="scripts", **_schedule("* * * * *"))
def run_schedules() -> None:
    """Make the projects of the schedules in ``YTMAKER_SCHEDULES_FILE`` that are due (ytmaker.schedules).

    Safe under any number of schedulers and redeliveries: each (schedule, due
    time) is claimed by one database row.
    """
    from ytmaker.runtime import get_runtime
    from ytmaker.schedules import load_schedules, tick

    rt = get_runtime()
    if rt.settings.schedules_file:
        tick(rt, load_schedules(rt.settings.schedules_file))
