"""Embedded mode: the in-process broker and a worker in this process, until the project ends."""

from __future__ import annotations

import time
from collections.abc import Callable

import dramatiq

from ytmaker.db.models import Project, ProjectStatus
from ytmaker.db.projects import load_project
from ytmaker.pipelines.control import retry_project
from ytmaker.pipelines.flow import start_generation
from ytmaker.runtime import Runtime, get_runtime, set_runtime


def process_runtime() -> Runtime:
    """The process's runtime; in embedded mode its broker is the worker's, with every actor declared on it."""
    import ytmaker.actors  # noqa: F401  (an entry point: builds the worker broker and hands it to the runtime)

    return get_runtime()


class EmbeddedWorker:
    """A Dramatiq worker over the runtime's (stub) broker, started and stopped with ``with``."""

    def __init__(self, rt: Runtime, threads: int) -> None:
        self.worker = dramatiq.Worker(rt.broker, worker_threads=threads, worker_timeout=50)

    def __enter__(self) -> EmbeddedWorker:
        self.worker.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.worker.stop()


def wait_for(rt: Runtime, project_id: str, *, timeout_s: float | None = None,
             on_progress: Callable[[dict[str, str]], None] | None = None, poll_s: float = 0.2) -> Project:
    """Follow a project until it is completed, failed or cancelled; returns its final record."""
    deadline = time.monotonic() + timeout_s if timeout_s else None
    while True:
        project = load_project(rt, project_id)
        if on_progress:
            on_progress(rt.progress.get(project_id))
        if ProjectStatus(project.status).terminal:
            return project
        if deadline and time.monotonic() > deadline:
            raise TimeoutError(f"project {project_id} still {project.status} after {timeout_s} s")
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
