"""A small run of the orchestration benchmark: it completes and prints its table (figures are not asserted)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
ROOT = Path(__file__).parents[1]


def test_the_benchmark_runs_every_system_and_prints_the_table(redis_client, postgres_engine):
    if shutil.which("redis-server") is None:
        pytest.skip("the benchmark starts its own redis-server")
    systems = ["ytmaker", "dramatiq"] + (["celery-stages", "celery"] if importlib.util.find_spec("celery") else [])
    only = [arg for name in systems for arg in ("--only", name)]
    result = subprocess.run([sys.executable, str(ROOT / "bench/orchestration/run.py"), "--n", "3", "--reps", "1", "--idle", "1",
                             "--timeout", "120", *only], capture_output=True, text=True, timeout=400, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "| system" in out and "projects/s" in out and "Redis cmds/project" in out
    assert "| ytmaker " in out and "| bare dramatiq (floor)" in out
    rows = {line.split("|")[1].strip(): line.split("|") for line in out.splitlines() if line.startswith("| ")}
    on_stages = []
    if "celery" in systems:
        assert "celery (seed design)" in rows and "ytmaker / celery (no-op tasks) throughput" in out
        assert "ytmaker / celery on ytmaker stages throughput" in out
        on_stages = ["celery on ytmaker stages"]
    for name in ["ytmaker", *on_stages]:  # both run ytmaker's stage functions on PostgreSQL
        statements = float(rows[name][7].split("/")[0])
        assert statements > 0  # the workers' SQL counters reached the benchmark


def test_the_fanout_benchmark_measures_both_modes(redis_client, postgres_engine):
    if shutil.which("redis-server") is None:
        pytest.skip("the benchmark starts its own redis-server")
    result = subprocess.run([sys.executable, str(ROOT / "bench/orchestration/fanout.py"), "--segments", "4", "--delay", "0.1",
                             "--projects", "1"], capture_output=True, text=True, timeout=280, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split("|")[1].strip(): float(line.split("|")[2]) for line in result.stdout.splitlines()
            if line.startswith("| fanned out") or line.startswith("| loop in one thread")}
    assert set(rows) == {"fanned out (one message per segment)", "loop in one thread (baseline)"}
    assert rows["loop in one thread (baseline)"] >= 4 * 0.1  # one image after another: the delay is really paid


def test_the_memory_breakdown_names_every_procfile_process(redis_client, postgres_engine):
    if shutil.which("redis-server") is None:
        pytest.skip("the benchmark starts its own redis-server")
    result = subprocess.run([sys.executable, str(ROOT / "bench/orchestration/memory.py"), "--projects", "1"],
                            capture_output=True, text=True, timeout=280, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    roles = {line.split("|")[2].strip() for line in result.stdout.splitlines() if line.startswith("| ") and "**" not in line}
    assert {"dramatiq parent (CLI)", "worker process", "scheduler (periodiq)"} <= roles
    assert "ytmaker.actors (everything a worker imports at start)" in result.stdout
