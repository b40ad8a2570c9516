"""``ytmaker batch`` and ``ytmaker schedule``: many videos from one file, and schedules (registered by ytmaker.cli)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from ytmaker.cli_common import console, out
from ytmaker.cli_common import fail as _fail
from ytmaker.cli_common import runtime as _runtime
from ytmaker.errors import YtmakerError

schedule_app = typer.Typer(help="Schedules in YTMAKER_SCHEDULES_FILE (run by `periodiq ytmaker.scheduler`).",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
    app.add_typer(schedule_app, name="schedule")




def batch(source: Annotated[str, typer.Argument(help="The batch file or folder (JSON Lines, CSV, or .txt/.md files); "
                                                   "or `status ID` for a batch's state.")],
          batch_id: Annotated[str | None, typer.Argument(help="With `status`: the batch's id.", show_default=False)] = None,
          wait: Annotated[bool, typer.Option(help="Distributed mode: follow the batch until every row ended.")] = False,
          concurrency: Annotated[int | None, typer.Option(help="Embedded mode: projects made at once "
                                                                "(default: YTMAKER_BATCH_CONCURRENCY).")] = None) -> None:
    """Make a video of every row of SOURCE; rows made before are skipped, failed ones resumed. `batch status ID`: a batch's rows."""
    if source == "status" and batch_id:
        batch_status(batch_id)
        return
    if batch_id:
        _fail(f"unexpected {batch_id!r}: give one batch file or folder (or: ytmaker batch status ID)", 2)
    from ytmaker import batches

    started = time.monotonic()
    try:
        rt = _runtime()
        batch_id, planned = batches.plan(rt, Path(source))
    except YtmakerError as exc:
        _fail(str(exc))
        return
    counts = {a: sum(1 for p in planned if p.action == a) for a in ("made", "done", "resumed", "running")}
    console.print(f"batch [bold]{batch_id}[/bold]: {len(planned)} rows; {counts['made']} new, {counts['done']} done before, "
                  f"{counts['resumed']} to resume, {counts['running']} in progress")
    if rt.settings.embedded:
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            states = batches.run_embedded_batch(rt, planned, concurrency or rt.settings.batch_concurrency,
                                                on_tick=lambda s: live.update(_table(s)))
    else:
        batches.start(rt, planned)
        out.print(batch_id)
        if not wait:
            console.print(f"enqueued; follow it with: ytmaker batch status {batch_id}")
            return
        with Live(console=console, refresh_per_second=1) as live:
            states = batches.follow(rt, planned, on_tick=lambda s: live.update(_table(s)))
    batches.finish(rt, batch_id)
    text, ok = batches.summary(states, started)
    console.print()
    console.print(text)
    if not ok:
        raise typer.Exit(1)


def batch_status(batch_id: str) -> None:
    """A batch's rows and their projects now."""
    from ytmaker import batches

    try:
        record, states = batches.batch_rows(_runtime(), batch_id)
    except YtmakerError as exc:
        _fail(str(exc))
        return
    console.print(f"batch {record.id} from {record.source}, started {record.created_at:%Y-%m-%d %H:%M}"
                  + (f", ended {record.finished_at:%Y-%m-%d %H:%M}" if record.finished_at else ""))
    out.print(_table(states))
    text, ok = batches.summary(states)
    console.print(text)
    if not ok:
        raise typer.Exit(1)


def _table(states) -> Table:
    table = Table("line", "project", "action", "status", "%", "note")
    ended = {"completed", "failed", "cancelled"}
    done = sum(1 for s in states if s.status in ended)
    overall = sum(100.0 if s.status in ended else s.progress for s in states) / max(1, len(states))
    filled = round(overall / 5)
    table.title = f"{'█' * filled}{'░' * (20 - filled)} {overall:.0f} %   {done}/{len(states)} ended"
    for s in states:
        note = s.waiting or (s.error if s.status in ("failed", "cancelled") else s.title) or ""
        table.add_row(str(s.line), s.project_id[:8], s.action, s.status, f"{s.progress:.0f}", note[:70])
    return table


def _schedules(rt):
    from ytmaker.schedules import load_schedules

    if not rt.settings.schedules_file:
        _fail("no schedules: set YTMAKER_SCHEDULES_FILE to a TOML file of [[schedule]] tables (README, Schedules)")
    return load_schedules(rt.settings.schedules_file)


@schedule_app.command("list")
def schedule_list() -> None:
    """Each schedule's next run and last project."""
    from ytmaker.schedules import last_runs, next_due

    try:
        rt = _runtime()
        schedules = _schedules(rt)
    except YtmakerError as exc:
        _fail(str(exc))
        return
    runs = last_runs(rt)
    table = Table("schedule", "cron (UTC)", "folder", "next run", "last run", "last project")
    now = datetime.now(UTC)
    for schedule in schedules:
        upcoming = next_due(schedule.spec, now)
        last = runs.get(schedule.name)
        table.add_row(schedule.name, schedule.cron, str(schedule.folder), f"{upcoming:%Y-%m-%d %H:%M}" if upcoming else "-",
                      f"{last.due_at:%Y-%m-%d %H:%M} {last.state}" if last else "-", (last.project_id or "") if last else "")
    out.print(table)


@schedule_app.command("run")
def schedule_run(name: str) -> None:
    """Run schedule NAME now (its oldest unused file becomes a project)."""
    from ytmaker.schedules import run_once

    try:
        rt = _runtime()
        schedule = next((s for s in _schedules(rt) if s.name == name), None)
        if schedule is None:
            _fail(f"no schedule named {name!r}; `ytmaker schedule list` shows them")
            return
        project_id = run_once(rt, schedule, datetime.now(UTC))
    except YtmakerError as exc:
        _fail(str(exc))
        return
    if project_id is None:
        _fail(f"{schedule.folder} has no unused .txt or .md file")
        return
    out.print(project_id)
    if rt.settings.embedded:
        from ytmaker.embedded import EmbeddedWorker, wait_for

        with EmbeddedWorker(rt, rt.settings.embedded_threads):
            project = wait_for(rt, project_id)
        console.print(f"project {project_id} {project.status}" + (f": {project.error}" if project.error else ""))
