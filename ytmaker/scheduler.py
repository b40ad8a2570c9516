"""The scheduler's entry point: ``periodiq ytmaker.scheduler``.

It only sends the periodic ticks, so it builds a broker with periodiq's
middleware and declares the periodic actor, and imports nothing of the stages,
the database or the providers (the workers, ``ytmaker.actors``, run the ticks).
"""

import dramatiq
from periodiq import PeriodiqMiddleware  # type: ignore[import-untyped]  # periodiq ships no type information

from ytmaker.broker import PERIODIQ_SKIP_DELAY_S, build_broker
from ytmaker.config import Settings
from ytmaker.logs import configure_logging

configure_logging()
dramatiq.set_broker(build_broker(Settings(), [PeriodiqMiddleware(skip_delay=PERIODIQ_SKIP_DELAY_S)]))

from ytmaker.periodic import recover_stalled, run_schedules  # noqa: E402  (declared on the broker above)

__all__ = ["recover_stalled", "run_schedules"]
