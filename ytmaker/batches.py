"""Batches: many videos from one file, recorded, resumable, and never made twice.

``plan`` checks every row (``ytmaker.batch_file``), then in one transaction
records the batch and, for each row, finds the project its identity already
made or stores a new one (``RowProject``'s primary key keeps that unique
however often, and however concurrently, the file is run):

* made     - a new project, started now;
* done     - finished before: skipped;
* resumed  - failed or cancelled before: retried from its failed stage;
* running  - still being made by an earlier run: followed.

``run_embedded_batch`` makes the projects in this process, ``concurrency`` at
a time; in distributed mode ``start`` enqueues them and the workers make them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ytmaker.batch_file import Row, check, check_rows
from ytmaker.db.models import Batch, BatchRow, Project, ProjectStatus, RowProject, Script, StageRun, new_id
from ytmaker.errors import InvalidInput
from ytmaker.pipelines.control import retry_project
from ytmaker.pipelines.flow import start_generation
from ytmaker.progress.base import settled
from ytmaker.runtime import Runtime

FINISHED = {ProjectStatus.COMPLETED.value}
RESUMABLE = {ProjectStatus.FAILED.value, ProjectStatus.CANCELLED.value}


@dataclass(frozen=True)
class Planned:
    line: int
    label: str
    project_id: str
    action: str  # made, done, resumed, running


@dataclass(frozen=True)
class RowState:
    line: int
    project_id: str
    action: str
    status: str
    title: str | None
    error: str | None
    waiting: str | None  # a stage waiting for a known time (YouTube's quota), in words
    progress: float = 0.0  # 0-100, from the live progress store


def plan(rt: Runtime, source: Path) -> tuple[str, list[Planned]]:
    """Check every row of ``source`` and record the batch; returns its id and each row's project and action."""
    rows, projects = check_rows(rt, source)
    return plan_checked(rt, str(source.resolve()), rows, projects)


def plan_rows(rt: Runtime, key: str, rows: list[Row], errors: list[str], *,
              owner_token_id: int | None = None) -> tuple[str, list[Planned]]:
    """``plan`` for rows that came another way (the HTTP API), known by ``key``."""
    rows, projects = check(rt, key, rows, errors, owner_token_id=owner_token_id)
    return plan_checked(rt, key, rows, projects, owner_token_id=owner_token_id)


def plan_checked(rt: Runtime, key: str, rows: list[Row], projects: list[Project], *,
                 owner_token_id: int | None = None) -> tuple[str, list[Planned]]:
    for _ in range(3):  # a concurrent run of the same file may take a row's identity first: plan again, then it is found
        try:
            return _record(rt, key, rows, projects, owner_token_id)
        except IntegrityError:
            continue
    raise InvalidInput(f"{key} is being planned by another run at the same time; try again")


def _record(rt: Runtime, key: str, rows: list[Row], projects: list[Project],
            owner_token_id: int | None) -> tuple[str, list[Planned]]:
    # Ids are made here, so the session inserts each table's rows in one multi-row statement at commit
    # (a flush per row cost 1.5 ms a row: bench/batch).
    planned: list[Planned] = []
    batch = Batch(id=new_id(), source=key, owner_token_id=owner_token_id)
    with rt.db.session() as session:
        known = {identity: (project_id, status) for identity, project_id, status in session.execute(
            select(RowProject.identity, RowProject.project_id, Project.status)
            .join(Project, Project.id == RowProject.project_id)
            .where(RowProject.identity.in_([r.identity for r in rows])))}
        seen: dict[str, str] = {}  # two identical rows in one file are one video
        made: list[Project] = []
        links: list[RowProject] = []
        records: list[BatchRow] = []
        for row, project in zip(rows, projects):
            if row.identity in known:
                project_id, status = known[row.identity]
                action = "done" if status in FINISHED else "resumed" if status in RESUMABLE else "running"
            elif row.identity in seen:
                project_id, action = seen[row.identity], "running"
            else:
                project.id = project_id = project.id or new_id()
                made.append(project)
                links.append(RowProject(identity=row.identity, project_id=project_id))
                action = "made"
                seen[row.identity] = project_id
            records.append(BatchRow(batch_id=batch.id, line=row.line, identity=row.identity, project_id=project_id, action=action))
            planned.append(Planned(row.line, row.label, project_id, action))
        session.add_all([batch, *made])
        session.flush()  # the rows that the links and records point at first (no relationship() orders them)
        session.add_all([*links, *records])
    return batch.id, planned


def start(rt: Runtime, planned: list[Planned]) -> None:
    """Send every row that needs work (distributed mode: the workers make them)."""
    for row in planned:
        _start_one(rt, row)


def _start_one(rt: Runtime, row: Planned) -> None:
    if row.action == "made":
        start_generation(row.project_id, rt)
    elif row.action == "resumed":
        retry_project(rt, row.project_id)


def run_embedded_batch(rt: Runtime, planned: list[Planned], concurrency: int,
                       on_tick: Callable[[list[RowState]], None] | None = None, poll_s: float = 0.2) -> list[RowState]:
    """Make the batch's projects in this process, ``concurrency`` at a time; returns the rows' final states."""
    from ytmaker.embedded import EmbeddedWorker
    from ytmaker.runtime import set_runtime

    set_runtime(rt)
    waiting = [row for row in planned if row.action in ("made", "resumed")]
    active: list[Planned] = []
    with EmbeddedWorker(rt, max(rt.settings.embedded_threads, concurrency * 2)):
        while waiting or active:
            while waiting and len(active) < concurrency:
                row = waiting.pop(0)
                _start_one(rt, row)
                active.append(row)
            states = row_states(rt, planned)
            if on_tick:
                on_tick(states)
            ended = {s.project_id for s in states if ProjectStatus(s.status).terminal}
            active = [row for row in active if row.project_id not in ended]
            if active or waiting:
                time.sleep(poll_s)
    return row_states(rt, planned)


def follow(rt: Runtime, planned: list[Planned], on_tick: Callable[[list[RowState]], None] | None = None,
           poll_s: float = 1.0) -> list[RowState]:
    """Wait until every row's project has ended (distributed mode's ``--wait``)."""
    while True:
        states = row_states(rt, planned)
        if on_tick:
            on_tick(states)
        if all(ProjectStatus(s.status).terminal for s in states):
            return states
        time.sleep(poll_s)


def finish(rt: Runtime, batch_id: str) -> None:
    with rt.db.session() as session:
        session.execute(update(Batch).where(Batch.id == batch_id).values(finished_at=datetime.now(UTC)))


def row_states(rt: Runtime, planned: list[Planned]) -> list[RowState]:
    by_id = _project_states(rt, {row.project_id for row in planned})
    states = []
    for row in planned:
        status, title, error, waiting = by_id[row.project_id]
        states.append(RowState(row.line, row.project_id, row.action, status, title, error, waiting,
                               progress=_progress(rt, row.project_id, status, error)))
    return states


def _progress(rt: Runtime, project_id: str, status: str, error: str | None) -> float:
    try:
        return float(settled(rt.progress.get(project_id), status, error).get("progress", 0) or 0)
    except (ValueError, TypeError):
        return 0.0


def batch_rows(rt: Runtime, batch_id: str) -> tuple[Batch, list[RowState]]:
    """A recorded batch and its rows' states now (``ytmaker batch status``)."""
    with rt.db.single() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise InvalidInput(f"no batch with id {batch_id!r}; `ytmaker batch FILE` prints the id")
        session.expunge(batch)
        rows = session.scalars(select(BatchRow).where(BatchRow.batch_id == batch_id).order_by(BatchRow.line)).all()
        planned = [Planned(r.line, f"line {r.line}", r.project_id, r.action) for r in rows]
    return batch, row_states(rt, planned)


def _project_states(rt: Runtime, ids: set[str]) -> dict[str, tuple[str, str | None, str | None, str | None]]:
    with rt.db.single() as session:
        title = func.coalesce(Project.title, Script.title)  # the one given, else the script's (from the text or the LLM)
        projects = session.execute(select(Project.id, Project.status, title.label("title"), Project.error)
                                   .outerjoin(Script, Script.project_id == Project.id)
                                   .where(Project.id.in_(ids))).all()
        waits = dict(session.execute(select(StageRun.project_id, StageRun.error)
                                     .where(StageRun.project_id.in_(ids), StageRun.error.like("waiting:%"),
                                            StageRun.status == "queued")).all())
    return {p.id: (p.status, p.title, p.error, waits.get(p.id)) for p in projects}


def summary(states: list[RowState], started: float | None = None) -> tuple[str, bool]:
    """One paragraph for the end of a batch, and whether every row was made."""
    count = {key: sum(1 for s in states if s.status == key) for key in ("completed", "failed", "cancelled")}
    skipped = sum(1 for s in states if s.action == "done")
    made = count["completed"] - skipped
    lines = [f"{made} made, {skipped} done before, {count['failed']} failed, {count['cancelled']} cancelled"
             + (f" in {time.monotonic() - started:.1f} s" if started else "")]
    lines += [f"  line {s.line}: {s.project_id} {s.status}: {s.error or 'no reason recorded'}"
              for s in states if s.status in RESUMABLE]
    return "\n".join(lines), count["failed"] == 0 and count["cancelled"] == 0
