"""The MCP server over stdio, driven by the official SDK's client: ``python -m ytmaker mcp`` in embedded mode."""

from __future__ import annotations

import os
import sys

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from tests.helpers import SHORT_TEXT, TWO_SEGMENT_TEXT

#: the whole conversation, server start-up included; a loaded machine gets the time it needs
DEADLINE_S = 120


def server_params(tmp_path, **settings: str) -> StdioServerParameters:
    """The server as an agent would start it, on a temporary data dir with the instant providers and renderer."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("YTMAKER_")}
    env.update(YTMAKER_DATA_DIR=str(tmp_path / "data"), YTMAKER_IMAGE_PROVIDER="instant", YTMAKER_SPEECH_PROVIDER="instant",
               YTMAKER_RENDERER="instant", YTMAKER_RENDER_QUALITY="tiny")
    env.update({f"YTMAKER_{key.upper()}": value for key, value in settings.items()})
    return StdioServerParameters(command=sys.executable, args=["-m", "ytmaker", "mcp"], env=env, cwd=str(tmp_path))


def run(tmp_path, conversation, **settings: str):
    async def main():
        with anyio.fail_after(DEADLINE_S):
            async with stdio_client(server_params(tmp_path, **settings)) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                return await conversation(session)

    return anyio.run(main)


def test_make_video_reports_progress_and_returns_the_finished_project(tmp_path):
    """One server for the whole conversation (each start costs seconds): refusals first, then two videos."""
    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress, total, message):
        notes.append((progress, total, message))

    async def conversation(session):
        tools = {tool.name for tool in (await session.list_tools()).tools}
        refused = {
            "empty": await session.call_tool("make_video", {"text": "   "}),
            "format": await session.call_tool("make_video", {"text": SHORT_TEXT, "video_format": "4:3"}),
            "unknown": await session.call_tool("get_project", {"project_id": "00000000-0000-0000-0000-000000000000"}),
            "traversal": await session.call_tool("cancel_project", {"project_id": "../../etc/passwd"}),
            "listed": await session.call_tool("list_projects", {}),
        }
        made = await session.call_tool("make_video", {"text": SHORT_TEXT, "title": "Bees"}, progress_callback=on_progress)
        untitled = await session.call_tool("make_video", {"text": SHORT_TEXT, "video_format": "9:16"})
        listed = await session.call_tool("list_projects", {"limit": 5})
        got = await session.call_tool("get_project", {"project_id": made.structured_content["id"]})
        return tools, refused, made, untitled, listed, got

    tools, refused, made, untitled, listed, got = run(tmp_path, conversation)

    assert tools == {"make_video", "get_project", "list_projects", "cancel_project"}
    # refusals are tool errors that say why, and create nothing
    assert refused["empty"].is_error and "the text is empty" in refused["empty"].content[0].text
    assert refused["format"].is_error and "'4:3' is not one of 16:9, 9:16" in refused["format"].content[0].text
    assert refused["unknown"].is_error and "00000000-0000-0000-0000-000000000000" in refused["unknown"].content[0].text
    assert refused["traversal"].is_error and "is not a project id" in refused["traversal"].content[0].text
    assert refused["listed"].structured_content["result"] == []
    # a video made, with progress all along
    assert not made.is_error, made.content
    project = made.structured_content
    assert project["status"] == "completed", project
    assert project["title"] == "Bees"
    assert os.path.isfile(project["outputs"]["video"]) and os.path.isfile(project["outputs"]["thumbnail"])
    assert {s["stage"] for s in project["stages"] if s["status"] == "succeeded"} >= {"script", "render"}
    # Notifications arrived while it ran, rising to 100 out of 100, with the stage in words.
    figures = [progress for progress, _total, _message in notes]
    assert len(notes) >= 3 and figures == sorted(set(figures)), notes
    assert figures[-1] == 100 and all(total == 100 for _p, total, _m in notes)
    assert any(message and message.startswith("render") for _p, _t, message in notes), notes
    assert untitled.structured_content["title"] == "Honeybees talk by dancing"  # the script's, when none was given
    assert untitled.structured_content["format"] == "9:16"
    assert [p["id"] for p in listed.structured_content["result"]] == [untitled.structured_content["id"], project["id"]]
    assert [p["title"] for p in listed.structured_content["result"]] == ["Honeybees talk by dancing", "Bees"]
    assert got.structured_content["status"] == "completed"


@pytest.mark.timeout(DEADLINE_S + 30)
def test_cancel_project_stops_a_running_one(tmp_path):
    async def conversation(session):
        results = {}

        async def make():
            results["made"] = await session.call_tool("make_video", {"text": TWO_SEGMENT_TEXT},
                                                      progress_callback=started)

        seen = anyio.Event()

        async def started(progress, total, message):
            if message and message.startswith("images"):  # its pictures take a while: the project is caught running
                seen.set()

        async with anyio.create_task_group() as group:
            group.start_soon(make)
            await seen.wait()
            listed = await session.call_tool("list_projects", {})
            project_id = listed.structured_content["result"][0]["id"]
            results["cancel"] = await session.call_tool("cancel_project", {"project_id": project_id})
        results["again"] = await session.call_tool("cancel_project", {"project_id": project_id})
        return results

    results = run(tmp_path, conversation, instant_image_delay_s="1.5")

    assert results["cancel"].structured_content["cancelled"] is True
    assert results["made"].structured_content["status"] == "cancelled"
    assert results["made"].structured_content["error"] == "cancelled by request"
    assert results["again"].structured_content == {"id": results["made"].structured_content["id"], "cancelled": False,
                                                   "status": "cancelled"}
