"""The ``ytmaker mcp`` command, registered apart from ``ytmaker/cli.py`` so the CLI imports the MCP SDK only when it runs."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``mcp`` command to the ``ytmaker`` CLI."""

    @app.command("mcp")
    def mcp_command() -> None:
        """Serve the MCP tools (make_video, get_project, list_projects, cancel_project) over stdio."""
        from ytmaker.mcp_server import serve

        serve()
