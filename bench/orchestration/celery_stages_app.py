"""The seed's Celery design running ytmaker's own stage functions: two orchestrations, one workload.

``celery_app.py`` runs the seed's chain on no-op tasks, so its ratio to
ytmaker compares orchestration plus nothing with orchestration plus work.
Here each task calls ``ytmaker.stages.stage_function(name)(rt, project_id)``
(the same code the ytmaker actors call: lease, records, files, progress),
with the seed's Celery settings and the same chain,
``chain(script, group(images, audio, avatars), render, thumbnail, upload)``
(a chord), derived from the stage table's dependencies.

Each stage still ends with ytmaker's hand-over (``flow.advance``): it records
the finish, inserts the next stages' ``stage_runs`` rows (which the next task
then leases) and completes the project after upload; only its sends go
nowhere. The runtime's broker is a :class:`DroppingBroker`: a ``StubBroker``
whose ``enqueue`` checks the queue and returns the message without keeping
it. A plain ``StubBroker`` would hold every hand-over message (six per
project) until something flushed it, which needs a timer thread in every
prefork child and grows the worker's memory between flushes, both costs
that are neither Celery's nor ytmaker's. So Celery's chain and chord do the
sequencing, and ytmaker's Redis broker (encode, push, wake-up) is not paid.

The runtime is built per process on first use (after the prefork child is
forked: database pools and Redis sockets are not shared across a fork), from
the same ``YTMAKER_*`` environment as the ytmaker workers.

    celery -A bench.orchestration.celery_stages_app worker --pool prefork --concurrency 2 -Q assets,render,scripts,upload
"""

from __future__ import annotations

import os
import sys

from celery import Celery, chain, group, signals
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueNotFound

from bench.orchestration.celery_app import SEED_SETTINGS
from ytmaker.db.models import StageStatus
from ytmaker.graph import TABLE, queues
from ytmaker.stages import stage_function

URL = os.environ.get("BENCH_CELERY_URL", "redis://127.0.0.1:6379/3")
PREFIX = "bench.stages."

app = Celery("ytmaker_bench_stages", broker=URL, backend=URL)
app.conf.update(SEED_SETTINGS, task_routes={PREFIX + row.name: {"queue": row.queue} for row in TABLE})
# A recycled child costs a new runtime (pools, connections); BENCH_CELERY_MAX_TASKS_PER_CHILD=0 turns it off.
if "BENCH_CELERY_MAX_TASKS_PER_CHILD" in os.environ:
    app.conf.worker_max_tasks_per_child = int(os.environ["BENCH_CELERY_MAX_TASKS_PER_CHILD"]) or None


class DroppingBroker(StubBroker):
    """A Dramatiq broker that accepts a message for a declared queue and drops it."""

    def enqueue(self, message, *, delay=None):
        if message.queue_name not in self.queues:
            raise QueueNotFound(message.queue_name)
        return message


def dropping_broker() -> DroppingBroker:
    broker = DroppingBroker()
    for queue in queues():
        broker.declare_queue(queue)
    return broker


_runtime = None
_runtime_pid = 0


def runtime():
    """This process's ytmaker runtime (built again in a forked child)."""
    global _runtime, _runtime_pid
    if _runtime is None or _runtime_pid != os.getpid():
        from ytmaker.config import Settings
        from ytmaker.runtime import build_runtime

        _runtime, _runtime_pid = build_runtime(Settings(), broker=dropping_broker()), os.getpid()
    return _runtime


class StageNotFinished(RuntimeError):
    """A stage function returned without finishing its stage: the chain must not go on."""


def _task(name: str):
    run = stage_function(name)  # imported in the parent, so recycled children do not import it again

    def task(project_id: str) -> str:
        status = run(runtime(), project_id)
        if status is None or status == StageStatus.RUNNING:
            # None: the project was no longer live or the lease was held elsewhere; RUNNING: handed on
            # to messages (image parts, avatar polls) that the dropping broker never delivers.
            raise StageNotFinished(f"{name} of {project_id} ended as {status}")
        return str(status)

    task.__name__ = f"run_{name}"
    return app.task(name=PREFIX + name)(task)


TASKS = {row.name: _task(row.name) for row in TABLE}


def levels() -> list[list[str]]:
    """The table's stages by depth: [[script], [images, audio, avatars], [render], [thumbnail], [upload]]."""
    depth: dict[str, int] = {}
    for row in TABLE:  # rows come after what they depend on
        depth[row.name] = 1 + max((depth[d] for d in row.depends_on), default=-1)
    return [[name for name in depth if depth[name] == level] for level in range(max(depth.values()) + 1)]


def start_generation(project_id: str, rt) -> str:
    """ytmaker's own start (project read, progress, the script stage's row claimed), then the seed's chain."""
    from ytmaker.pipelines import start_generation as ytmaker_start

    ytmaker_start(project_id, rt)  # its send of the script message is dropped with the others
    steps = [TASKS[names[0]].si(project_id) if len(names) == 1 else group(TASKS[n].si(project_id) for n in names)
             for names in levels()]
    return chain(*steps).apply_async().id


@signals.worker_process_init.connect
def _configure(**_kwargs) -> None:
    from ytmaker.logs import configure_logging

    configure_logging()  # as ytmaker.actors does in its workers


@signals.worker_process_shutdown.connect
def _flush(**_kwargs) -> None:
    # A child recycled after worker_max_tasks_per_child: write what it queued before it goes.
    if _runtime is not None and _runtime_pid == os.getpid():
        _runtime.progress.flush()
        _runtime.close()
    counter = sys.modules.get("sitecustomize")
    if counter is not None and hasattr(counter, "flush"):
        counter.flush()
