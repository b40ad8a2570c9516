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
    systems = ["ytmaker", "dramatiq"] + (["celery"] if importlib.util.find_spec("celery") else [])
    only = [arg for name in systems for arg in ("--only", name)]
    result = subprocess.run([sys.executable, str(ROOT / "bench/orchestration/run.py"), "--n", "3", "--reps", "1", "--idle", "1",
                             "--timeout", "120", *only], capture_output=True, text=True, timeout=280, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "| system" in out and "projects/s" in out and "Redis cmds/project" in out
    assert "| ytmaker " in out and "| bare dramatiq (floor)" in out
    if "celery" in systems:
        assert "| celery (seed design)" in out and "ytmaker / celery throughput" in out
    ytmaker_row = next(line for line in out.splitlines() if line.startswith("| ytmaker "))
    statements = float(ytmaker_row.split("|")[7].split("/")[0])
    assert statements > 0  # the workers' SQL counters reached the benchmark


def test_the_fanout_benchmark_measures_both_modes(redis_client, postgres_engine):
    if shutil.which("redis-server") is None:
        pytest.skip("the benchmark starts its own redis-server")
    result = subprocess.run([sys.executable, str(ROOT / "bench/orchestration/fanout.py"), "--segments", "4", "--delay", "0.2",
                             "--projects", "1"], capture_output=True, text=True, timeout=280, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split("|")[1].strip(): float(line.split("|")[2]) for line in result.stdout.splitlines()
            if line.startswith("| fanned out") or line.startswith("| loop in one thread")}
    assert set(rows) == {"fanned out (one message per segment)", "loop in one thread (baseline)"}
    assert rows["loop in one thread (baseline)"] >= 4 * 0.2  # one image after another: the delay is really paid
