"""A small run of the live-service benchmark: it completes, every stream connects and every push arrives."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).parents[1]


def test_the_live_benchmark_runs_and_reports_its_figures(redis_client, postgres_engine):
    pytest.importorskip("aiohttp")  # the benchmark's clients (the bench extra)
    pytest.importorskip("psutil")
    if shutil.which("redis-server") is None:
        pytest.skip("the benchmark starts its own redis-server")
    result = subprocess.run([sys.executable, str(ROOT / "bench/live/run.py"), "--clients", "40", "--projects", "4",
                             "--duration", "3", "--rate", "8", "--one-project-rate", "2", "--pollers", "4",
                             "--create-rate", "10", "--create-duration", "2", "--create-workers", "2"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout[result.stdout.index("{\n"):])
    for phase in ("spread", "one_project"):
        sse = report[phase]["sse"]
        assert sse["connected"] == 40 and sse["errors"] == 0 and sse["delivered"] == sse["expected"] > 0
        assert report[phase]["polling_1s"]["staleness"]["n"] > 0 and report[phase]["api_rss_mb_holding_streams"] > 0
    assert report["create"]["statuses"] == report["create_2_workers"]["statuses"] == {"201": 20}
