"""The MCP server (``ytmaker mcp``, stdio): an agent makes videos and follows them with the official ``mcp`` SDK.

Tools: ``make_video`` (creates a project through the same code as the CLI and
the API, then waits for its end, sending MCP progress notifications while it
runs, since agents handle polling badly), ``get_project``, ``list_projects``
and ``cancel_project``. A refused input or an unknown project is a tool error
whose text says why. In embedded mode (no ``YTMAKER_REDIS_URL``) the server
runs the in-process worker beside itself; in distributed mode the workers do
the work and the server only sends and follows.

The SDK moves stray writes to file descriptor 1 (FFmpeg, C libraries) onto
stderr while it serves, so stdout carries MCP messages only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from ytmaker.errors import InvalidInput, YtmakerError
from ytmaker.progress.base import TERMINAL_STATUSES

if TYPE_CHECKING:
    from ytmaker.db.models import Project
    from ytmaker.runtime import Runtime

#: how long ``make_video`` waits for a progress snapshot before it looks at the project's record again
RECHECK_S = 1.0

INSTRUCTIONS = (
    "ytmaker turns a text into a narrated video. make_video takes the text and returns when the video is made "
    "(minutes for a long text), with progress notifications meanwhile; the result names the video file. "
    "A failed project's error says why."
)

Report = Callable[[float, str], Awaitable[None]]


async def follow(rt: Runtime, project_id: str, subscription: Any, report: Report, *, reported: float = -1.0) -> Project:
    """Report each rise of the project's progress above ``reported`` until the project ends; returns its final record.

    ``subscription`` (``rt.progress.subscribe``, opened before the project started) hands over each snapshot; a
    quiet spell of RECHECK_S, or a terminal status, sends it to the record, which has the last word.
    """
    from ytmaker.db.models import ProjectStatus
    from ytmaker.db.projects import load_project

    last = reported
    snapshot: dict[str, str] | None = rt.progress.get(project_id)
    while True:
        if snapshot:
            figure = float(snapshot.get("progress") or 0)
            if figure > last:  # MCP progress must rise with each notification
                last = figure
                stage, message = snapshot.get("stage", ""), snapshot.get("message", "")
                await report(figure, message if message.startswith(stage) else f"{stage}: {message}")
        if not snapshot or snapshot.get("status") in TERMINAL_STATUSES:
            project = await anyio.to_thread.run_sync(load_project, rt, project_id)
            if ProjectStatus(project.status).terminal:
                return project
        snapshot = await anyio.to_thread.run_sync(subscription.get, RECHECK_S)


def _refuse(exc: YtmakerError) -> ToolError:
    return ToolError(str(exc))


def build_server(rt: Runtime) -> MCPServer:
    """The MCP server with ytmaker's four tools, on ``rt``."""
    from ytmaker.db.projects import project_view
    from ytmaker.pipelines import start_generation
    from ytmaker.pipelines.control import cancel_project as cancel
    from ytmaker.projects import ProjectOptions, create_project, load_project
    from ytmaker.projects import list_projects as recent_projects
    from ytmaker.sources.reading import read_given

    server = MCPServer("ytmaker", instructions=INSTRUCTIONS)

    @server.tool()
    async def make_video(ctx: Context, text: str = "", url: str | None = None, title: str | None = None,
                         language: str | None = None, video_format: str | None = None, voice: str | None = None,
                         max_duration_s: float | None = None, captions: str | None = None,
                         publish: str = "folder") -> dict[str, Any]:
        """Make a narrated video from ``text`` (plain, Markdown or HTML) or from the web page at ``url``, and wait until
        it is done; returns the project with its video's path.

        video_format: "16:9" or "9:16"; language: e.g. "en" or "zh" (default: detected); max_duration_s: the longest
        video in seconds (0: the whole text); captions: "words", "sentences", "off" or "auto"; publish: "folder" or
        "youtube".
        """
        def create() -> Project:
            if bool(text) == bool(url):
                raise InvalidInput("give either text or url")
            source = read_given(text, rt.settings, url=url)
            options = ProjectOptions(title=title, language=language, video_format=video_format, voice=voice,
                                     publish_target=publish, max_duration_s=max_duration_s, captions=captions,
                                     source_url=source.url)
            return create_project(rt, source.text, options)

        try:
            project = await anyio.to_thread.run_sync(create)
        except YtmakerError as exc:
            raise _refuse(exc) from None
        subscription = rt.progress.subscribe(project.id)
        try:
            await ctx.report_progress(0, 100, f"project {project.id} queued")
            await anyio.to_thread.run_sync(start_generation, project.id, rt)

            async def report(figure: float, message: str) -> None:
                await ctx.report_progress(figure, 100, message)

            final = await follow(rt, project.id, subscription, report, reported=0)
        finally:
            subscription.close()
        return await anyio.to_thread.run_sync(project_view, rt, final)

    @server.tool()
    async def get_project(project_id: str) -> dict[str, Any]:
        """A project's status (with the reason when it failed), its stages, live progress and output files."""
        try:
            project = await anyio.to_thread.run_sync(load_project, rt, project_id)
        except YtmakerError as exc:
            raise _refuse(exc) from None
        return await anyio.to_thread.run_sync(project_view, rt, project)

    @server.tool()
    async def list_projects(limit: int = 20, status: str | None = None) -> list[dict[str, Any]]:
        """Recent projects, newest first (id, title, status, error, created_at); ``status`` keeps only that status."""
        projects = await anyio.to_thread.run_sync(recent_projects, rt, max(1, min(limit, 200)), status)
        return [{"id": p.id, "title": title, "status": p.status, "error": p.error,
                 "created_at": p.created_at.isoformat()} for p, title in projects]

    @server.tool()
    async def cancel_project(project_id: str) -> dict[str, Any]:
        """Cancel a project: queued stages won't run, running ones stop. ``cancelled`` is false if it had already ended."""
        try:
            changed = await anyio.to_thread.run_sync(cancel, rt, project_id)
            project = await anyio.to_thread.run_sync(load_project, rt, project_id)
        except YtmakerError as exc:
            raise _refuse(exc) from None
        return {"id": project.id, "cancelled": changed, "status": project.status}

    return server


def serve() -> None:
    """Serve MCP over stdio until the client closes it (with the in-process worker in embedded mode)."""
    from ytmaker.config import Settings
    from ytmaker.db.migrate import upgrade
    from ytmaker.runtime import get_runtime

    if not Settings().embedded:  # sends by actor name only: the workers do the work
        rt = get_runtime()
        upgrade(rt.db)
        build_server(rt).run("stdio")
        return
    from ytmaker.embedded import EmbeddedWorker, process_runtime

    rt = process_runtime()  # the worker's broker, with every actor declared on it
    upgrade(rt.db)
    with EmbeddedWorker(rt, rt.settings.embedded_threads):
        build_server(rt).run("stdio")

