"""The service's commands: ``ytmaker serve`` and ``ytmaker token create|list|revoke`` (registered by ``ytmaker.cli``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ytmaker.cli_common import console, out
from ytmaker.cli_common import fail as _fail
from ytmaker.errors import YtmakerError

token_app = typer.Typer(help="API tokens of the HTTP service (`ytmaker serve`).", no_args_is_help=True)


def _database():
    from ytmaker.config import Settings
    from ytmaker.db.migrate import upgrade
    from ytmaker.db.session import Database

    db = Database(Settings().resolved_database_url)
    upgrade(db)
    return db


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; beyond loopback only once an API token exists.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes (distributed mode), to use more cores.")] = 1,
) -> None:
    """Serve the HTTP API, its live progress streams and the page (embedded mode: with the worker)."""
    from ytmaker.service.server import serve as run

    try:
        run(host, port, workers=workers)
    except YtmakerError as exc:
        _fail(str(exc))


@token_app.command("create")
def token_create(name: str, admin: Annotated[bool, typer.Option(help="Sees and acts on every project.")] = False) -> None:
    """Make a token and print it once (only its hash is kept)."""
    from ytmaker.service.tokens import create_token

    try:
        token = create_token(_database(), name, admin=admin)
    except YtmakerError as exc:
        _fail(str(exc))
    console.print(f"token [bold]{name}[/bold]{' (admin)' if admin else ''} created; it is shown this once:")
    out.print(token, soft_wrap=True)


@token_app.command("list")
def token_list() -> None:
    """List the tokens (names only: the tokens themselves are not kept)."""
    from ytmaker.service.tokens import list_tokens

    table = Table("name", "admin", "created (UTC)", "revoked")
    for row in list_tokens(_database()):
        table.add_row(row.name, "yes" if row.admin else "", row.created_at.strftime("%Y-%m-%d %H:%M"),
                      row.revoked_at.strftime("%Y-%m-%d %H:%M") if row.revoked_at else "")
    out.print(table)


@token_app.command("revoke")
def token_revoke(name: str) -> None:
    """Refuse a token from now on."""
    from ytmaker.service.tokens import revoke_token

    if not revoke_token(_database(), name):
        _fail(f"no live token named {name!r} (`ytmaker token list`)")
    out.print(f"revoked {name}")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``token`` to the ``ytmaker`` command."""
    app.command()(serve)
    app.add_typer(token_app, name="token")
