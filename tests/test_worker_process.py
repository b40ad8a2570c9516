"""The deployment path: `dramatiq ytmaker.actors` worker processes on Redis, as the Procfile starts them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL
from tests.helpers import SHORT_TEXT
from ytmaker.embedded import wait_for
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project

pytestmark = pytest.mark.redis


def procfile_commands() -> dict[str, str]:
    lines = (Path(__file__).parents[1] / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def test_procfile_declares_a_worker_per_queue_group_and_the_scheduler():
    commands = {name: c for name, c in procfile_commands().items() if name != "web"}  # web: tests/test_service_restart.py
    served = {q for name, command in commands.items() if name != "scheduler"
              for q in command.split("--queues ")[1].split(" --")[0].split()}
    assert served == {"scripts", "assets", "render", "upload"}  # every queue has a worker
    assert "--queues scripts upload" in commands["io"] and "--queues render" in commands["render"]
    assert commands["render"].endswith("--threads 2")
    assert commands["scheduler"] == "periodiq ytmaker.scheduler"
    # one Prometheus exposition server for the machine: every instance on one port, one serving it
    assert all("YTMAKER_METRICS_PORT=9191" in c for n, c in commands.items() if n != "scheduler")
    assert sum("YTMAKER_METRICS_SERVE=false" not in c for n, c in commands.items() if n != "scheduler") == 1


def test_procfile_workers_run_a_project_to_completion(redis_rt, redis_broker, tmp_path):
    rt = redis_rt
    env = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    env.update(YTMAKER_REDIS_URL=REDIS_URL, YTMAKER_DATABASE_URL=rt.settings.resolved_database_url,
               YTMAKER_DATA_DIR=str(rt.data_dir), YTMAKER_RENDER_QUALITY="draft")
    bin_dir = Path(sys.executable).parent
    workers = []
    for name, command in procfile_commands().items():
        if name in ("scheduler", "web"):
            continue
        argv = command.split()
        env_assignments = dict(a.split("=", 1) for a in argv[1:] if "=" in a) if argv[0] == "env" else {}
        argv = [a for a in argv if a != "env" and "=" not in a]
        argv[0] = str(bin_dir / argv[0])
        workers.append(subprocess.Popen(argv, env={**env, **env_assignments}, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        project = create_project(rt, SHORT_TEXT)
        final = wait_for(rt, start_generation(project.id, rt), timeout_s=180)
        assert final.status == "completed", final.error
        assert rt.progress.get(project.id)["progress"] == "100"
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(60)
