"""No worker is an outage too: a project waiting on a queue nobody consumes says so within seconds.

And the README's distributed steps, run as written on a shell whose PATH
does not hold the virtualenv (not activated), start the Procfile's workers
and make a video.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dramatiq
import pytest

from tests.chaos.conftest import PrivateRedis
from tests.conftest import redis_runtime as shared_redis_runtime
from tests.helpers import SHORT_TEXT, wait_until
from ytmaker.doctor import check_workers
from ytmaker.embedded import wait_for
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project

REPO = Path(__file__).parents[1]


@pytest.fixture
def redis_runtime(tmp_path, redis_client):
    yield from shared_redis_runtime(tmp_path, f"sqlite:///{tmp_path / 'ytmaker.db'}", redis_client, image_provider="instant",
                                    speech_provider="instant", render_quality="tiny", worker_heartbeat_timeout_s=3)


@pytest.mark.redis
def test_waiting_on_a_queue_no_worker_consumes_is_said_within_seconds_and_the_wait_goes_on(redis_runtime):
    rt = redis_runtime
    # given: a project sent while no worker runs
    project = create_project(rt, SHORT_TEXT)
    start_generation(project.id, rt)
    warnings: list[str] = []
    result: dict = {}
    follower = threading.Thread(target=lambda: result.update(final=wait_for(rt, project.id, timeout_s=120,
                                                                            on_warning=warnings.append)))

    # when: someone follows it
    started = time.monotonic()
    follower.start()

    # then: within seconds they are told which queue has no worker and how to start one; doctor says the same
    wait_until(lambda: warnings, 15, "a warning that no worker consumes the queue")
    assert time.monotonic() - started < 10
    assert "scripts queue" in warnings[0] and "ytmaker up" in warnings[0]
    assert {c.provider: c.ok for c in check_workers(rt.redis, 3)} == {q: False for q in ("assets", "render", "scripts", "upload")}

    # when: a worker starts, the wait that went on ends with the project done
    worker = dramatiq.Worker(rt.broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        follower.join(120)
        assert result["final"].status == "completed", result["final"].error
        assert all(c.ok for c in check_workers(rt.redis, 3))
    finally:
        worker.stop()
    assert len(warnings) == 1


def _readme_steps() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Distributed mode", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's distributed mode has no sh block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.postgres
def test_the_readmes_distributed_steps_work_as_written_without_an_activated_virtualenv(tmp_path, postgres_url):
    # given: a private Redis, a private schema, and a shell whose PATH does not hold the virtualenv
    server = PrivateRedis(tmp_path)
    server.start()
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YTMAKER_", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != bin_dir)
    env.update(YTMAKER_DATA_DIR=str(tmp_path / "data"), YTMAKER_IMAGE_PROVIDER="instant",
               YTMAKER_SPEECH_PROVIDER="instant", YTMAKER_RENDER_QUALITY="tiny")
    ours = {"YTMAKER_REDIS_URL": server.url, "YTMAKER_DATABASE_URL": postgres_url}
    fleet = None
    try:
        # when: each step runs as the README writes it (its URLs pointed at the private servers)
        for step in _readme_steps():
            if step.startswith("export "):
                name, value = step[len("export "):].split("=", 1)
                env[name] = ours.get(name, value)
                continue
            if step.endswith(" up") or "honcho start" in step:  # the fleet: runs until stopped
                with open(tmp_path / "fleet.log", "wb") as log:
                    fleet = subprocess.Popen(["sh", "-c", step], cwd=REPO, env=env, start_new_session=True,
                                             stdout=log, stderr=subprocess.STDOUT)
                continue
            try:
                done = subprocess.run(["sh", "-c", step], cwd=REPO, env=env, capture_output=True, timeout=240)
            except subprocess.TimeoutExpired as exc:
                raise AssertionError((tmp_path / "fleet.log").read_text()[-4000:]) from exc
            # then: every step succeeds, and the last one made the video
            assert done.returncode == 0, (step, done.stderr.decode()[-3000:], (tmp_path / "fleet.log").read_text()[-3000:])
        assert fleet is not None and fleet.poll() is None, (tmp_path / "fleet.log").read_text()[-3000:]
        assert "video.mp4" in done.stderr.decode() + done.stdout.decode()
        assert "not found" not in (tmp_path / "fleet.log").read_text()
    finally:
        if fleet is not None and fleet.poll() is None:
            os.killpg(fleet.pid, signal.SIGTERM)
            try:
                fleet.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(fleet.pid, signal.SIGKILL)
        server.kill()
