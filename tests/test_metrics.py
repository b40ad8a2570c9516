"""Prometheus metrics: a worker instance started as the Procfile starts it answers on its metrics port."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL
from ytmaker.config import Settings
from ytmaker.metrics import metrics_dir

pytestmark = pytest.mark.redis


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sample(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_are_on_in_distributed_mode_and_off_embedded():
    assert Settings(_env_file=None, redis_url=REDIS_URL).metrics_enabled
    assert not Settings(_env_file=None).metrics_enabled
    assert not Settings(_env_file=None, redis_url=REDIS_URL, metrics=False).metrics_enabled


def test_an_instance_that_does_not_serve_forks_no_exposition_server(tmp_path, monkeypatch):
    from ytmaker.metrics import prometheus_middleware, serve_metrics

    for name in ("dramatiq_prom_host", "dramatiq_prom_port", "dramatiq_prom_db"):  # it sets these: restored after
        monkeypatch.setenv(name, os.environ.get(name, ""))

    settings = Settings(_env_file=None, redis_url=REDIS_URL, metrics_port=_free_port())
    assert prometheus_middleware(settings).forks == [serve_metrics]
    assert prometheus_middleware(settings.model_copy(update={"metrics_serve": False})).forks == []


def test_one_instance_serves_the_counters_of_every_instance_on_its_port(redis_rt, redis_broker, tmp_path):
    # given: as the Procfile runs them, a render instance that serves the port and a scripts instance that only counts
    rt, port = redis_rt, _free_port()
    shutil.rmtree(metrics_dir(Settings(_env_file=None, metrics_port=port)), ignore_errors=True)  # an earlier run's, same port
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_REDIS_URL=REDIS_URL, YTMAKER_DATABASE_URL=rt.settings.resolved_database_url,
               YTMAKER_DATA_DIR=str(rt.data_dir), YTMAKER_METRICS_PORT=str(port), YTMAKER_METRICS_HOST="127.0.0.1")
    workers = [
        subprocess.Popen([str(Path(sys.executable).parent / "dramatiq"), "ytmaker.actors", "--queues", queue,
                          "--processes", "1", "--threads", "1"], env=env | extra, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for queue, extra in (("render", {}), ("scripts", {"YTMAKER_METRICS_SERVE": "false"}))
    ]
    try:
        # when: two uploads wait (nobody consumes that queue here), a render and a script of missing projects fail
        upload = redis_broker.get_actor("upload_to_youtube")
        upload.send(str(uuid.uuid4()))
        upload.send(str(uuid.uuid4()))
        redis_broker.get_actor("render_video").send(str(uuid.uuid4()))
        redis_broker.get_actor("generate_script").send(str(uuid.uuid4()))
        text, deadline = "", time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                text = ""
            if _sample(text, "dramatiq_message_errors_total", actor_name="render_video") and \
                    _sample(text, "dramatiq_message_errors_total", actor_name="generate_script"):
                break
            time.sleep(0.3)
        # then: Dramatiq's counters and the depths read from Redis are both there
        assert _sample(text, "dramatiq_messages_total", actor_name="render_video", queue_name="render") == 1.0, text[-2000:]
        assert _sample(text, "dramatiq_message_errors_total", actor_name="render_video") == 1.0
        assert _sample(text, "dramatiq_message_errors_total", actor_name="generate_script") == 1.0  # the other instance's
        assert _sample(text, "ytmaker_queue_depth", queue="upload") == 2.0
        assert _sample(text, "ytmaker_queue_dead_letters", queue="render") == 1.0
        assert "dramatiq_message_duration_milliseconds_bucket" in text
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(60)
