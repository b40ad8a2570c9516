"""Distributed mode, as deployed: the API process is killed mid-project and started again; clients reconnect
with Last-Event-ID and see the project finish, because the state lives in the database and Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL
from tests.helpers import TWO_SEGMENT_TEXT, wait_until
from tests.service_support import read_events, stream
from tests.test_worker_process import procfile_commands
from ytmaker.db.migrate import upgrade
from ytmaker.db.session import Database

pytestmark = pytest.mark.redis
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(argv, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_procfile_serves_the_api_on_loopback_unless_told_otherwise():
    # without a token a public address is refused, and honcho would take every worker down with it
    assert procfile_commands()["web"] == "ytmaker serve --host ${YTMAKER_HOST:-127.0.0.1} --port ${PORT:-8000}"


def test_clients_see_the_project_finish_across_a_restart_of_the_api(tmp_path, redis_client):
    redis_client.flushdb()
    database_url = f"sqlite:///{tmp_path / 'ytmaker.db'}"
    upgrade(Database(database_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_REDIS_URL=REDIS_URL, YTMAKER_DATABASE_URL=database_url, YTMAKER_DATA_DIR=str(tmp_path / "data"),
               YTMAKER_IMAGE_PROVIDER="instant", YTMAKER_INSTANT_IMAGE_DELAY_S="1.5", YTMAKER_SPEECH_PROVIDER="instant",
               YTMAKER_RENDERER="instant", YTMAKER_RENDER_QUALITY="tiny", YTMAKER_METRICS="false",
               YTMAKER_API_HEARTBEAT_S="0.5")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [str(BIN / "ytmaker"), "serve", "--port", str(port)]
    processes = [_start([str(BIN / "dramatiq"), "ytmaker.actors", "--processes", "1", "--threads", "4"], env)]
    try:
        api = _start(serve, env)
        processes.append(api)
        wait_until(lambda: _up(base), 60, "the API to answer")
        with httpx.Client() as http:
            project_id = http.post(f"{base}/api/v1/projects", json={"text": TWO_SEGMENT_TEXT}).json()["id"]
            url = f"{base}/api/v1/projects/{project_id}/events"
            seen = []
            with stream(http, url) as response:
                lines = response.iter_lines()
                for event in read_events(lines):
                    seen.append(event)
                    if event.data.get("stage") == "images":  # mid-project: the slow images are being made
                        break
                os.killpg(api.pid, signal.SIGKILL)  # the API dies under the open stream
                api.wait(30)
                with pytest.raises(httpx.HTTPError):  # the client sees the cut
                    for _ in lines:
                        pass
            assert seen[-1].data["status"] == "assets_generating"

            api = _start(serve, env)
            processes.append(api)
            wait_until(lambda: _up(base), 60, "the restarted API to answer")
            with stream(http, url, **{"Last-Event-ID": seen[-1].id}) as response:
                after = list(read_events(response.iter_lines()))
            assert after[-1].name == "end" and after[-1].data["status"] == "completed"
            assert int(after[0].id) > int(seen[-1].id)  # what happened while no API ran came first, as the current state
            assert http.get(f"{base}/api/v1/projects/{project_id}").json()["outputs"]["video"]
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(60)
        redis_client.flushdb()
