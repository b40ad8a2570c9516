"""The ``ytmaker`` command (typer + rich)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from ytmaker import cli_batch, cli_mcp, cli_service
from ytmaker.cli_common import ProjectId, console, out
from ytmaker.cli_common import fail as _fail
from ytmaker.cli_common import runtime as _runtime
from ytmaker.errors import YtmakerError

app = typer.Typer(help="Turn a text into a narrated video and publish it.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
dlq_app = typer.Typer(help="Messages that exhausted their retries (distributed mode).", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
auth_app = typer.Typer(help="Authorise publishing services.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")


@app.command()
def make(
    file: Annotated[str, typer.Argument(help="Text, Markdown, HTML, PDF or .docx file, a web page's URL, or - for stdin.")],
    title: Annotated[str | None, typer.Option(help="Video title (default: from the text).")] = None,
    language: Annotated[str | None, typer.Option(help="Language code, e.g. en or zh.")] = None,
    video_format: Annotated[str | None, typer.Option("--format", help="16:9 or 9:16 (Shorts).")] = None,
    voice: Annotated[str | None, typer.Option(help="Voice name of the speech provider.")] = None,
    publish: Annotated[str, typer.Option(help="Publish target.")] = "folder",
    template: Annotated[str, typer.Option(help="Prompt template of an LLM script writer: default, summary, story, listicle.")] = "default",
    model: Annotated[str | None, typer.Option(help="LLM model of the script writer (default: YTMAKER_LLM_MODEL).")] = None,
    max_duration: Annotated[float | None, typer.Option(
        help="Longest video in seconds: whole segments are kept up to it (9:16 default 60; 0: the whole text).")] = None,
    captions: Annotated[str | None, typer.Option(
        help="Burned-in captions: words (each word lit as it is said), sentences, off (default: YTMAKER_CAPTIONS; auto: "
             "words for 9:16).")] = None,
    caption_style: Annotated[list[str] | None, typer.Option(
        "--caption-style", help="A caption style setting as KEY=VALUE, repeatable: font_size, color, highlight_color, "
                                "outline_color, outline, position (bottom, center, top).")] = None,
    wait: Annotated[bool, typer.Option(help="Distributed mode: follow progress until the end.")] = False,
    media: Annotated[Path | None, typer.Option(help="Your images and clips for the segments (01.jpg, hive.mp4...).")] = None,
) -> None:
    """Create a project from FILE (or a URL) and make its video."""
    from ytmaker.embedded import run_embedded, wait_for
    from ytmaker.pipelines import start_generation
    from ytmaker.projects import ProjectOptions, create_project
    from ytmaker.providers.own_media import IMAGE_SUFFIXES, ignored, scan, take_in
    from ytmaker.sources.reading import read_input

    try:
        own = scan(media) if media is not None else []  # refused before a project exists
        if media is not None and (left := ignored(media)):
            _warn(f"--media: not used, not an image ({', '.join(sorted(IMAGE_SUFFIXES))}) or a clip: {', '.join(left)}")
        rt = _runtime()
        source = read_input(file, rt.settings)  # a URL is fetched, a document read, before a project exists
        options = ProjectOptions(title=title, language=language, video_format=video_format, voice=voice, publish_target=publish,
                                 prompt_template=template, llm_model=model, max_duration_s=max_duration,
                                 captions=captions, caption_style=_key_values(caption_style), source_url=source.url)
        project = create_project(rt, source.text, options)
        if own:
            take_in(own, rt.project_dir(project.id) / "media")
        console.print(f"project [bold]{project.id}[/bold]")
        if rt.settings.embedded:
            with _progress_bar() as show:
                final = run_embedded(rt, project.id, on_progress=show)
        else:
            start_generation(project.id, rt)
            out.print(project.id)
            if not wait:
                return
            with _progress_bar() as show:
                final = wait_for(rt, project.id, on_progress=show, on_warning=_warn)
    except YtmakerError as exc:
        _fail(str(exc))
    _report_end(rt, final)


def _key_values(pairs: list[str] | None) -> dict[str, str | int | float] | None:
    """KEY=VALUE pairs as a dict, numbers as numbers (the project's checks refuse unknown keys and bad values)."""
    if not pairs:
        return None
    values: dict[str, str | int | float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            _fail(f"--caption-style takes KEY=VALUE, not {pair!r}")
        number = value.strip()
        values[key.strip()] = int(number) if number.isdigit() else float(number) if _is_float(number) else number
    return values


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return not text.startswith("#")


def _warn(message: str) -> None:
    console.print(f"[yellow]{message}[/yellow]")


def _report_end(rt, project) -> None:
    from ytmaker.db.models import Publication, Video

    if project.status != "completed":
        _fail(f"project {project.id} {project.status}: {project.error or 'no reason recorded'}"
              + ("\n  fix the cause, then: ytmaker retry " + project.id if project.status == "failed" else ""))
    with rt.db.session() as session:
        video = session.get(Video, project.id)
        publications = session.query(Publication).filter_by(project_id=project.id).all()
    console.print(f"[green]done[/green] video: {rt.path(video.path)} ({video.duration_ms / 1000:.1f} s)", soft_wrap=True)
    for publication in publications:
        console.print(f"published to {publication.target}: {publication.url}", soft_wrap=True)  # paths stay copyable


class _progress_bar:
    """Live bars from the progress hash: the project and its current stage."""

    def __enter__(self):
        self.progress = Progress(TextColumn("{task.description:<22}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                 TextColumn("{task.fields[message]}"), TimeElapsedColumn(), console=console,
                                 transient=False, disable=not console.is_terminal)
        self.progress.start()
        self.total = self.progress.add_task("project", total=100, message="")
        self.stage = self.progress.add_task("stage", total=100, message="")
        self.last_message = ""
        return self.show

    def show(self, hash_: dict) -> None:
        self.progress.update(self.total, completed=float(hash_.get("progress", 0) or 0), message=hash_.get("status", ""))
        self.progress.update(self.stage, description=hash_.get("stage", "stage"),
                             completed=float(hash_.get("stage_progress", 0) or 0), message=hash_.get("message", "")[:60])
        # Without a terminal (logs, CI), print a line per stage quarter rather than every tick.
        step = (hash_.get("stage", ""), int(float(hash_.get("stage_progress", 0) or 0)) // 25, hash_.get("status"))
        if not console.is_terminal and hash_.get("message") and step != self.last_message:
            console.print(f"{hash_.get('progress', 0):>3}% {hash_.get('stage', '')}: {hash_.get('message')}")
        self.last_message = step

    def __exit__(self, *_exc):
        self.progress.stop()


@app.command()
def status(project_id: ProjectId, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a project's status, its stages, its live progress and its files."""
    from ytmaker.progress.base import settled
    from ytmaker.projects import get_project, project_view

    try:
        rt = _runtime()
        project = get_project(rt, project_id)
    except YtmakerError as exc:
        _fail(str(exc))
    view = project_view(rt, project)
    if as_json:
        out.print_json(json.dumps(view))
        return
    done = settled(view["progress"], project.status, project.error).get("progress", "?")
    out.print(f"[bold]{project.id}[/bold]  {project.status}  {done}%  {view['title'] or ''}")
    if project.error:
        out.print(f"[red]{project.error}[/red]")
    table = Table("stage", "status", "attempts", "error")
    for run in view["stages"]:
        table.add_row(run["stage"], run["status"], str(run["attempts"]), run["error"] or "")
    out.print(table)
    if "video" in view["outputs"]:
        out.print(f"video: {view['outputs']['video']} ({view['outputs']['duration_s']:.1f} s)", soft_wrap=True)
    for published in view["published"]:
        out.print(f"{published['target']}: {published['status']} {published['url'] or ''}", soft_wrap=True)
    from ytmaker.presence import advice, missing_workers

    if project.status not in ("completed", "failed", "cancelled") and (missing := missing_workers(rt, project.id)):
        _warn(advice(missing))
    if project.status == "failed":
        raise typer.Exit(1)


@app.command()
def watch(project_id: ProjectId) -> None:
    """Follow a project's progress until it ends."""
    from ytmaker.embedded import wait_for

    try:
        rt = _runtime()
        with _progress_bar() as show:
            final = wait_for(rt, project_id, on_progress=show, on_warning=_warn)
    except YtmakerError as exc:
        _fail(str(exc))
    _report_end(rt, final)


@app.command("list")
def list_(limit: int = 20) -> None:
    """List recent projects."""
    from ytmaker.projects import list_projects

    rt = _runtime()
    table = Table(Column("id", no_wrap=True, min_width=36), "status", Column("created", no_wrap=True), "title")  # ids whole
    for project, title in list_projects(rt, limit):
        table.add_row(project.id, project.status, project.created_at.strftime("%Y-%m-%d %H:%M"), (title or "")[:50])
    out.print(table)


@app.command()
def retry(project_id: ProjectId) -> None:
    """Resume a failed or cancelled project at the stage that did not finish."""
    from ytmaker.embedded import run_embedded_retry
    from ytmaker.pipelines.control import retry_project

    try:
        rt = _runtime()
        if rt.settings.embedded:
            with _progress_bar() as show:
                final = run_embedded_retry(rt, project_id, on_progress=show)
            _report_end(rt, final)
        else:
            sent = retry_project(rt, project_id)
            out.print(f"resumed {project_id}: {', '.join(sent) or 'nothing to send'}")
    except YtmakerError as exc:
        _fail(str(exc))


@app.command()
def cancel(project_id: ProjectId) -> None:
    """Cancel a project: queued stages won't run, running ones stop."""
    from ytmaker.pipelines.control import cancel_project

    try:
        rt = _runtime()
        changed = cancel_project(rt, project_id)
    except YtmakerError as exc:
        _fail(str(exc))
    out.print("cancelled" if changed else "the project had already ended")


@dlq_app.command("list")
def dlq_list() -> None:
    """List dead letters, newest first."""
    from ytmaker.deadletters import list_dead

    rt = _runtime()
    if rt.redis is None:
        _fail("dead letters are kept by Redis: set YTMAKER_REDIS_URL (embedded mode has none)")
    table = Table("message id", "queue", "actor", "project", "failed at (UTC)")
    for letter in list_dead(rt.redis):
        table.add_row(letter.message_id, letter.queue, letter.actor, letter.project_id or "",
                      letter.failed_at.strftime("%Y-%m-%d %H:%M:%S"))
    out.print(table)


@dlq_app.command("requeue")
def dlq_requeue(message_id: str) -> None:
    """Remove a dead letter and resume its project at the stage that failed."""
    from ytmaker.deadletters import requeue

    try:
        sent = requeue(_runtime(), message_id)
    except YtmakerError as exc:
        _fail(str(exc))
    out.print(f"requeued: {', '.join(sent) or 'nothing to send'}")


@app.command()
def up(command: Annotated[list[str] | None, typer.Argument(help="Instead of `honcho start`: -- COMMAND...")] = None) -> None:
    """Start the Procfile's workers (honcho) with this installation's commands on the PATH, activated or not."""
    from ytmaker.launch import exec_up

    try:
        exec_up(command)
    except YtmakerError as exc:
        _fail(str(exc))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    from ytmaker.db.migrate import upgrade
    from ytmaker.runtime import get_runtime

    started = time.monotonic()
    rt = get_runtime()
    upgrade(rt.db)
    out.print(f"schema up to date ({rt.db.engine.url.render_as_string(hide_password=True)}, {time.monotonic() - started:.2f} s)")


@app.command()
def doctor() -> None:
    """Check that each stage's configured provider is usable here, and say what to do if not."""
    from ytmaker.config import Settings
    from ytmaker.doctor import run_checks

    checks = run_checks(Settings())
    table = Table("check", "configured", "usable", "detail")
    for check in checks:
        mark = "[green]yes[/green]" if check.ok else ("[red]NO[/red]" if check.required else "[yellow]no[/yellow]")
        table.add_row(check.what, check.provider, mark, check.detail)
    out.print(table)
    blocking = [check.what for check in checks if check.blocking]
    if blocking:
        _fail(f"not usable: {', '.join(blocking)}")


@auth_app.command("youtube")
def auth_youtube(
    client_secrets: Annotated[Path, typer.Option(help="OAuth client (Desktop app) JSON from the Google Cloud console.")],
    browser: Annotated[bool, typer.Option(help="Open the consent page in a browser (else print its URL).")] = True,
) -> None:
    """Authorise uploads to your channel; the refresh token goes to the keyring (or a 0600 file)."""
    from ytmaker.config import Settings
    from ytmaker.providers.youtube_auth import TokenStore, authorize

    settings = Settings()
    try:
        where = authorize(client_secrets, TokenStore(settings.data_dir), open_browser=browser)
    except YtmakerError as exc:
        _fail(str(exc))
    out.print(f"YouTube authorised; refresh token stored in {where}")


cli_mcp.register(app)
cli_service.register(app)
cli_batch.register(app)


def main() -> None:
    app()
