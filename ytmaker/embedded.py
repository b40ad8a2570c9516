"""Embedded mode: the in-process broker and a worker in this process, until the project ends."""

from __future__ import annotations

import time
from collections.abc import Callable

import dramatiq

from ytmaker.db.models import Project, ProjectStatus
from ytmaker.db.projects import load_project
from ytmaker.pipelines.control import retry_project
from ytmaker.pipelines.flow import start_generation
from ytmaker.presence import advice, missing_workers
from ytmaker.runtime import Runtime, get_runtime, set_runtime


def process_runtime() -> Runtime:
    """The process's runtime; in embedded mode its broker is the worker's, with every actor declared on it."""
    import ytmaker.actors  # noqa: F401  (an entry point: builds the worker broker and hands it to the runtime)

    return get_runtime()


#: how long the runner waits for the messages in hand after the project ended (a failed project's other stages may run on)
DRAIN_S = 30.0


class EmbeddedWorker:
    """A Dramatiq worker over the runtime's (stub) broker, started and stopped with ``with``."""

    def __init__(self, rt: Runtime, threads: int) -> None:
        self.worker = dramatiq.Worker(rt.broker, worker_threads=threads, worker_timeout=50)

    def __enter__(self) -> EmbeddedWorker:
        self.worker.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        # The project is recorded finished before its last message is: the finishing thread still sends
        # progress and acks. Stopping now would raise Shutdown in it; let the messages in hand end first.
        deadline = time.monotonic() + DRAIN_S
        while self.worker.work_queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        self.worker.stop()


#: how often a follower checks that a live worker consumes the queues the project waits on (seconds)
WORKER_CHECK_S = 2.0


def wait_for(rt: Runtime, project_id: str, *, timeout_s: float | None = None,
             on_progress: Callable[[dict[str, str]], None] | None = None, poll_s: float = 0.2,
             on_warning: Callable[[str], None] | None = None) -> Project:
    """Follow a project until it is completed, failed or cancelled; returns its final record.

    ``on_warning`` is told when no live worker consumes a queue the project
    waits on (and again when that changes); the wait goes on.
    """
    deadline = time.monotonic() + timeout_s if timeout_s else None
    next_check, warned = time.monotonic() + WORKER_CHECK_S, list[str]()
    while True:
        project = load_project(rt, project_id)
        if on_progress:
            on_progress(rt.progress.get(project_id))
        if ProjectStatus(project.status).terminal:
            return project
        if deadline and time.monotonic() > deadline:
            raise TimeoutError(f"project {project_id} still {project.status} after {timeout_s} s")
        if on_warning and time.monotonic() >= next_check:
            next_check = time.monotonic() + WORKER_CHECK_S
            missing = missing_workers(rt, project_id)
            if missing and missing != warned:
                on_warning(advice(missing))
            warned = missing
        time.sleep(poll_s)


def run_embedded(rt: Runtime, project_id: str, *, on_progress: Callable[[dict[str, str]], None] | None = None) -> Project:
    """Run a project to its end in this process."""
    set_runtime(rt)
    with EmbeddedWorker(rt, rt.settings.embedded_threads):
        start_generation(project_id, rt)
        return wait_for(rt, project_id, on_progress=on_progress)


def run_embedded_retry(rt: Runtime, project_id: str, *,
                       on_progress: Callable[[dict[str, str]], None] | None = None) -> Project:
    """Resume a failed or cancelled project in this process."""
    set_runtime(rt)
    with EmbeddedWorker(rt, rt.settings.embedded_threads):
        retry_project(rt, project_id)
        return wait_for(rt, project_id, on_progress=on_progress)
