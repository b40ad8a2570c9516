"""Live progress: one writer, a hash per project, each change also published.

Hash ``ytmaker:progress:<project_id>`` fields:
    status          the project's status (queued ... completed, failed, cancelled)
    stage           the stage that wrote last
    progress        0-100 for the whole project
    stage_progress  0-100 for ``stage``
    message         one line for a person
    updated_at      ISO 8601, UTC
    seq             how many updates were applied (1, 2, ...): the event id of the HTTP service's streams
    error           set when the project failed
    p:<stage>       per-stage progress, from which ``progress`` is computed

Every update is published as the whole hash to the project's subscribers
(in Redis, as JSON on the pub/sub channel of the same name). An update is
applied atomically, so parallel asset stages cannot interleave half-written
figures, and a completed, failed or cancelled project changes again only
through a ``force``d update. The stages' weights are given to the store.

Two stores speak the :class:`ProgressStore` protocol:

* :class:`RedisProgressStore` (``progress/redis.py``) - shared by every
  process, ticks batched behind the stage by a writer thread;
* :class:`MemoryProgressStore` (``progress/memory.py``) - this process only,
  for embedded mode.
"""

from ytmaker.progress.base import PREFIX, TERMINAL_STATUSES, ProgressStore, Subscription, progress_key
from ytmaker.progress.memory import MemoryProgressStore, MemorySubscription
from ytmaker.progress.redis import RedisProgressStore, RedisSubscription

__all__ = [
    "PREFIX",
    "TERMINAL_STATUSES",
    "MemoryProgressStore",
    "MemorySubscription",
    "ProgressStore",
    "RedisProgressStore",
    "RedisSubscription",
    "Subscription",
    "progress_key",
]
