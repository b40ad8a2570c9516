"""Schedules: a channel that publishes on its own, one project per schedule and due time.

``YTMAKER_SCHEDULES_FILE`` names a TOML file of ``[[schedule]]`` tables
(``name``, ``cron`` in UTC, ``folder``, and any of a batch row's options).
periodiq sends ``run_schedules`` every minute (``ytmaker.periodic``); for
each schedule whose latest due time has no run yet, ``tick``:

1. claims the due time and the folder's oldest unused file in one row
   (``ScheduleRun``: its primary key is the schedule and due time, so however
   many schedulers tick, and however often a tick is delivered, one wins;
   a unique file key means a file is used once);
2. creates the project and records it on the claim, in one transaction;
3. moves the file to ``<folder>/done/``.

A crash after 1 or 2 is finished by the next tick (the file is still in the
folder until 3), so the text is neither lost nor used twice. Due times missed
while every scheduler was down are not replayed: only the latest is run (one
catch-up), and the log says how many were skipped. An empty folder makes no
project and is logged once, until a file arrives.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from periodiq import CronSpec, cron  # type: ignore[import-untyped]  # periodiq ships no type information
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ytmaker.batch_file import TEXT_SUFFIXES, options_from
from ytmaker.db.models import ScheduleRun
from ytmaker.db.session import rowcount
from ytmaker.errors import InvalidInput
from ytmaker.projects import prepare_project
from ytmaker.runtime import Runtime
from ytmaker.sources.reading import from_bytes

log = structlog.get_logger(__name__)

RESERVED = ("name", "cron", "folder")
#: how far back ``previous_due`` looks (a yearly schedule's previous run is at most a year ago)
LOOKBACK = timedelta(days=367)


class _Taken(Exception):
    """Another tick moved the claim on first (rolls this one's project back)."""


@dataclass(frozen=True)
class Schedule:
    name: str
    spec: CronSpec
    folder: Path
    options: dict = field(default_factory=dict)

    @property
    def cron(self) -> str:
        return str(self.spec)


def load_schedules(path: Path) -> list[Schedule]:
    """The schedules of a TOML file; InvalidInput names the first problem (a folder relative to the file's own)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"cannot read the schedules file {path}: {exc}") from None
    schedules, names = [], set()
    for index, table in enumerate(data.get("schedule", []), start=1):
        where = f"{path}, schedule {index}"
        missing = [key for key in RESERVED if key not in table]
        if missing:
            raise InvalidInput(f"{where}: {', '.join(missing)} missing")
        name = str(table["name"])
        if name in names or not name.strip() or len(name) > 64:
            raise InvalidInput(f"{where}: the name {name!r} is empty, too long or used twice")
        names.add(name)
        try:
            spec = cron(str(table["cron"]))
        except (ValueError, IndexError, KeyError) as exc:
            raise InvalidInput(f"{where}: cron {table['cron']!r} is not a cron expression ({exc})") from None
        options = {k: v for k, v in table.items() if k not in RESERVED}
        options_from(options)  # checks the fields' types
        folder = (path.parent / str(table["folder"])).resolve()
        schedules.append(Schedule(name, spec, folder, options))
    return schedules


def _day_matches(spec: CronSpec, moment: datetime) -> bool:
    weekday = moment.isoweekday() % 7
    day_ok, dow_ok = moment.day in spec.dom, weekday in spec.dow or (weekday == 0 and 7 in spec.dow)
    if spec.is_dom_restricted and spec.is_dow_restricted:
        return day_ok or dow_ok
    return day_ok and dow_ok


def previous_due(spec: CronSpec, now: datetime) -> datetime | None:
    """The latest minute at or before ``now`` (UTC) that ``spec`` matches, within ``LOOKBACK``."""
    moment = now.astimezone(UTC).replace(second=0, microsecond=0)
    floor = moment - LOOKBACK
    while moment >= floor:
        if moment.month not in spec.month:
            moment = moment.replace(day=1, hour=0, minute=0) - timedelta(minutes=1)
        elif not _day_matches(spec, moment):
            moment = moment.replace(hour=0, minute=0) - timedelta(minutes=1)
        elif moment.hour not in spec.hour:
            moment = moment.replace(minute=0) - timedelta(minutes=1)
        elif moment.minute not in spec.minute:
            moment -= timedelta(minutes=1)
        else:
            return moment
    return None


def next_due(spec: CronSpec, now: datetime) -> datetime | None:
    """The first minute after ``now`` that ``spec`` matches (searched a minute past each due time)."""
    moment = now.astimezone(UTC).replace(second=0, microsecond=0)
    probe = moment + LOOKBACK
    due = previous_due(spec, probe)
    while due is not None and due > moment:
        earlier = previous_due(spec, due - timedelta(minutes=1))
        if earlier is None or earlier <= moment:
            return due
        due = earlier
    return None


def tick(rt: Runtime, schedules: list[Schedule], now: datetime | None = None) -> list[str]:
    """Run every schedule that is due; returns the ids of the projects made."""
    now = now or datetime.now(UTC)
    made = []
    for schedule in schedules:
        made += finish_pending(rt, schedule)
        due = previous_due(schedule.spec, now)
        if due is None:
            continue
        last = _last_due(rt, schedule.name)
        if last is not None and last >= due:
            continue
        if last is not None:
            skipped = _count_missed(schedule.spec, last, due)
            if skipped:
                log.warning("schedule_catch_up", schedule=schedule.name, missed=skipped, running_for=due.isoformat())
        project_id = run_once(rt, schedule, due)
        if project_id:
            made.append(project_id)
    return made


def run_once(rt: Runtime, schedule: Schedule, due: datetime) -> str | None:
    """Claim ``due`` for ``schedule``, make its project from the oldest unused file and move the file; None if another
    tick had it or the folder is empty."""
    chosen = oldest_file(rt, schedule)
    key = file_key(chosen) if chosen else None
    try:
        with rt.db.single() as session:
            session.add(ScheduleRun(schedule=schedule.name, due_at=due, file=str(chosen) if chosen else None,
                                    file_key=key, state="claimed" if chosen else "empty"))
    except IntegrityError:  # another scheduler's tick, or a tick delivered twice: it is that one's
        return None
    if chosen is None:
        if _previous_state(rt, schedule.name, due) != "empty":
            log.warning("schedule_folder_empty", schedule=schedule.name, folder=str(schedule.folder))
        return None
    return _create(rt, schedule, due, chosen)


def _create(rt: Runtime, schedule: Schedule, due: datetime, chosen: Path) -> str | None:
    try:
        source = from_bytes(chosen.read_bytes(), name=chosen.name, settings=rt.settings)  # a .pdf, .docx, .html is read as such
        project = prepare_project(rt, source.text, options_from(schedule.options), now=due)
    except (InvalidInput, OSError) as exc:  # (a file that vanished was moved on by a concurrent tick: only a claim is refused)
        if _note(rt, schedule.name, due, when="claimed", state="refused", note=str(exc)):
            log.error("schedule_file_refused", schedule=schedule.name, file=str(chosen), reason=str(exc))
            _move_done(chosen)
        return None
    try:
        with rt.db.session() as session:  # the project and the claim's move on, or neither
            session.add(project)
            session.flush()
            moved_on = rowcount(session.execute(
                update(ScheduleRun).where(ScheduleRun.schedule == schedule.name, ScheduleRun.due_at == due,
                                          ScheduleRun.state == "claimed").values(project_id=project.id, state="created")))
            if moved_on != 1:
                raise _Taken
            project_id = project.id
    except _Taken:  # two schedulers finishing the same interrupted run: the other one made it
        return None
    _start(rt, project_id)
    _move_done(chosen)
    _note(rt, schedule.name, due, when="created", state="moved")
    log.info("schedule_run", schedule=schedule.name, due=due.isoformat(), project_id=project_id, file=chosen.name)
    return project_id


def finish_pending(rt: Runtime, schedule: Schedule) -> list[str]:
    """Finish the runs a crash (or a concurrent tick) left: a claim without its project, a project whose file was not
    moved; returns the ids of the projects made."""
    with rt.db.single() as session:
        pending = session.scalars(select(ScheduleRun).where(ScheduleRun.schedule == schedule.name,
                                                            ScheduleRun.state.in_(["claimed", "created"]))).all()
        for run in pending:
            session.expunge(run)
    made = []
    for run in pending:
        path = Path(run.file) if run.file else None
        if run.state == "claimed" and path and path.exists():
            project_id = _create(rt, schedule, run.due_at.replace(tzinfo=run.due_at.tzinfo or UTC), path)
            made += [project_id] if project_id else []
        elif run.state == "claimed":  # the file went away before its project was made: nothing to make
            _note(rt, schedule.name, run.due_at, when="claimed", state="refused", note="the claimed file is gone")
        else:
            if path:
                _move_done(path)
            _note(rt, schedule.name, run.due_at, when="created", state="moved")
    return made


def oldest_file(rt: Runtime, schedule: Schedule) -> Path | None:
    """The folder's oldest text file (by modification time, then name) not used by this schedule yet."""
    try:
        files = [p for p in schedule.folder.iterdir() if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES]
    except OSError:
        return None
    with rt.db.single() as session:
        used = set(session.scalars(select(ScheduleRun.file_key).where(ScheduleRun.schedule == schedule.name,
                                                                       ScheduleRun.file_key.is_not(None))))
    dated = []
    for path in files:
        try:  # a file moved away meanwhile (a concurrent tick) is not a candidate
            dated.append((path.stat().st_mtime, path.name, path, file_key(path)))
        except FileNotFoundError:
            continue
    return next((path for _, _, path, key in sorted(dated) if key not in used), None)


def file_key(path: Path) -> str:
    return f"{path.name[:15]}:{hashlib.sha256(path.read_bytes()).hexdigest()}"


def _move_done(path: Path) -> None:
    """Move a used file to ``done/`` (a file already moved, by a concurrent tick, stays where it is)."""
    done = path.parent / "done"
    done.mkdir(exist_ok=True)
    target = done / path.name
    if target.exists():  # a file of the same name used before: keep both
        target = done / f"{path.stem}-{int(datetime.now(UTC).timestamp())}{path.suffix}"
    try:
        os.replace(path, target)
    except FileNotFoundError:
        pass


def _start(rt: Runtime, project_id: str) -> None:
    from ytmaker.pipelines.flow import start_generation

    start_generation(project_id, rt)


def _note(rt: Runtime, name: str, due: datetime, *, when: str, **values: object) -> bool:
    """Move a run on from state ``when`` (a run another tick moved on already is left alone); whether it was."""
    with rt.db.session() as session:
        return rowcount(session.execute(update(ScheduleRun).where(ScheduleRun.schedule == name, ScheduleRun.due_at == due,
                                                                  ScheduleRun.state == when).values(**values))) == 1


def _last_due(rt: Runtime, name: str) -> datetime | None:
    with rt.db.single() as session:
        last = session.scalars(select(ScheduleRun.due_at).where(ScheduleRun.schedule == name)
                               .order_by(ScheduleRun.due_at.desc()).limit(1)).first()
    return last.replace(tzinfo=UTC) if last is not None and last.tzinfo is None else last


def _previous_state(rt: Runtime, name: str, due: datetime) -> str | None:
    with rt.db.single() as session:
        return session.scalars(select(ScheduleRun.state).where(ScheduleRun.schedule == name, ScheduleRun.due_at < due)
                               .order_by(ScheduleRun.due_at.desc()).limit(1)).first()


def _count_missed(spec: CronSpec, last: datetime, due: datetime) -> int:
    """Due times strictly between ``last`` and ``due`` (counted up to 1,000)."""
    count, moment = 0, due - timedelta(minutes=1)
    while count < 1000:
        earlier = previous_due(spec, moment)
        if earlier is None or earlier <= last:
            return count
        count, moment = count + 1, earlier - timedelta(minutes=1)
    return count


def last_runs(rt: Runtime) -> dict[str, ScheduleRun]:
    """Each schedule's latest run (``ytmaker schedule list``)."""
    with rt.db.single() as session:
        runs = session.scalars(select(ScheduleRun).order_by(ScheduleRun.due_at)).all()
        for run in runs:
            session.expunge(run)
    return {run.schedule: run for run in runs}
