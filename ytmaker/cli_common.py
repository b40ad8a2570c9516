"""What the ``ytmaker`` commands share: the consoles, the runtime, failing with a message, and a project argument."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console

from ytmaker.errors import YtmakerError

console = Console(stderr=True)
out = Console()


def runtime():
    from ytmaker.db.migrate import upgrade
    from ytmaker.embedded import process_runtime

    rt = process_runtime()
    upgrade(rt.db)
    return rt


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _whole_id(text: str) -> str:
    from ytmaker.db.projects import resolve_project_id

    try:
        return resolve_project_id(runtime(), text)
    except YtmakerError as exc:
        fail(str(exc))


#: a project argument: its whole id, or the first characters of it that name one project (as ``list`` shows them)
ProjectId = Annotated[str, typer.Argument(callback=_whole_id, metavar="PROJECT",
                                          help="A project id, or its first characters (8 are shown by `list` and batches).")]
