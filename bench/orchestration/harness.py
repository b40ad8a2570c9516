"""What the systems share: a private Redis server, worker process groups, counters, RSS.

A private ``redis-server`` (its own port, no persistence) is started for the
run, because ``INFO commandstats`` counts the whole server: on a shared Redis
other jobs' commands would land in the per-project figures.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SQLCOUNT_DIR = Path(__file__).resolve().parent / "sqlcount"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A throw-away redis-server on a free port; ``BENCH_REDIS_URL`` uses an existing one instead."""

    def __init__(self) -> None:
        self.process = None
        self.base_url = os.environ.get("BENCH_REDIS_URL", "").rstrip("/")
        if not self.base_url:
            exe = shutil.which("redis-server")
            if exe is None:
                sys.exit("redis-server is not installed (apt install redis-server), or set BENCH_REDIS_URL")
            port = free_port()
            self.dir = tempfile.mkdtemp(prefix="ytm-bench-redis-")
            self.process = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                             "--dir", self.dir, "--databases", "16"], stdout=subprocess.DEVNULL)
            self.base_url = f"redis://127.0.0.1:{port}"
            import redis

            client = redis.Redis.from_url(self.base_url)
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)

    def url(self, db: int) -> str:
        return f"{self.base_url}/{db}"

    def command_calls(self) -> dict[str, int]:
        """Calls per command since the server started (``INFO commandstats``), commands run by Lua included."""
        import redis

        stats = redis.Redis.from_url(self.base_url).info("commandstats")
        return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            shutil.rmtree(self.dir, ignore_errors=True)


def command_delta(before: dict[str, int], after: dict[str, int], ignore=("info",)) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if k not in ignore and after[k] - before.get(k, 0) > 0}


@dataclass
class Workers:
    """Worker process groups (one per command line), each in its own session so it can be stopped whole."""

    processes: list = field(default_factory=list)

    def start(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        handle = open(log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.processes.append(subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True,
                                               stdout=handle, stderr=subprocess.STDOUT))

    def pids(self) -> list[int]:
        """Every live process in the workers' sessions (Dramatiq forks its worker processes)."""
        sessions = {p.pid for p in self.processes}
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) in sessions and fields[0] != "Z":  # fields[3]: session id
                found.append(int(entry.name))
        return found

    def cpu_s(self) -> float:
        return cpu_seconds(self.pids())

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        self.processes.clear()


def cpu_seconds(pids) -> float:
    """User + system CPU of the processes, plus that of their children already reaped (Celery recycles its own)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def pids_named(needle: str) -> list[int]:
    """Processes whose command line contains ``needle`` (PostgreSQL's backends, the private redis-server)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def postgres_pids() -> list[int]:
    """PostgreSQL's backends and their postmaster, whose reaped-children times keep the CPU of backends that exited.

    A connection closed during a repetition (a recycled Celery child's pool)
    takes its backend's CPU out of the backends' sum; the postmaster's
    ``cutime``/``cstime`` gain it, so the sum over both does not go down.
    """
    backends = pids_named("postgres:")
    parents = set()
    for pid in backends:
        try:
            parents.add(int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]))
        except OSError:
            continue
    return backends + sorted(parents - set(backends))


def sql_counts(directory: Path) -> dict[str, int]:
    """Sum of the SQL counters every counted process wrote to ``directory`` (see sqlcount/)."""
    total: dict[str, int] = {}
    for path in directory.glob("*.json"):
        try:
            counts = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def wait_until(predicate, timeout_s: float, interval_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(interval_s)
