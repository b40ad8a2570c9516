"""Where the Procfile workers' memory goes: per process, after warm-up, with what each has loaded.

    python bench/orchestration/memory.py                # 3 projects one at a time, then 100 at once
    python bench/orchestration/memory.py --projects 300 --json mem.json

Starts the Procfile's workers as ``run.py`` does (private Redis, a PostgreSQL
schema of their own, instant providers), warms them up, then reports every
process of every Procfile line:

- its role: a Dramatiq instance is a parent (the CLI: it forks the others and
  relays their logs), its worker process(es) and its fork processes (ours is
  the Prometheus exposition server, ``ytmaker.metrics.serve_metrics``); the
  scheduler is one ``periodiq`` process;
- VmRSS (what the benchmark's "worker RSS" sums), PSS (shared pages split
  between the processes that map them, so the PSS column adds up to the real
  total) and private memory (USS: what stopping the process would free);
- the shared libraries with the most resident memory (``/proc/<pid>/smaps``)
  and the Python packages it imported (``sys.modules``, written by
  ``sqlcount/sitecustomize.py`` when ``BENCH_MODULES_DIR`` is set);
- what importing each package's loaded modules costs in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.orchestration.harness import BIN, RedisServer
from bench.orchestration.systems import YtmakerSystem, procfile_commands, wait_done

SITE = "site-packages/"


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """Direct children, oldest first (Dramatiq starts its worker processes before its forks)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat(int(entry.name))
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append((int(fields[19]), int(entry.name)))  # fields[19]: start time
    return [p for _, p in sorted(found)]


def memory_kb(pid: int) -> dict[str, int]:
    status = {k: v for k, v in (line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())}
    rollup = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        rollup[key] = int(value.split()[0])
    return {"rss": int(status["VmRSS"].split()[0]), "pss": rollup["Pss"],
            "uss": rollup["Private_Clean"] + rollup["Private_Dirty"], "anon": rollup["Anonymous"],
            "threads": int(status["Threads"])}


def libraries_kb(pid: int) -> dict[str, int]:
    """Resident kB per mapped shared library (``.so`` files and Python's own)."""
    resident: dict[str, int] = defaultdict(int)
    current = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            path = head[5] if len(head) > 5 else ""
            current = path if ".so" in path else None
        elif current and line.startswith("Rss:"):
            resident[current] += int(head[1])
    return dict(resident)


def short(path: str) -> str:
    return path.split(SITE, 1)[1] if SITE in path else path.rsplit("/", 1)[-1]


def modules(pid: int, modules_dir: Path) -> list[str]:
    try:
        return (modules_dir / f"{pid}.modules").read_text().split()
    except OSError:
        return []


def packages(names: list[str]) -> list[str]:
    """Top-level third-party packages among module names (those whose modules live in site-packages)."""
    tops = sorted({name.split(".")[0] for name in names} - {"_distutils_hack"})
    spec_paths = subprocess.run([sys.executable, "-c", _WHERE, *tops], capture_output=True, text=True).stdout.split("\n")
    return [top for top, where in zip(tops, spec_paths, strict=False) if SITE in where and "__editable__" not in top]


_WHERE = """
import importlib.util, sys
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    print(getattr(spec, "origin", "") or "")
"""

_IMPORT_COST = """
import importlib, sys
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
before = rss()
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:
        pass
print(rss() - before)
"""


def import_cost_kb(names: list[str]) -> int | None:
    """RSS a fresh interpreter gains importing ``names`` (a package's modules a worker had loaded, with their dependencies)."""
    result = subprocess.run([sys.executable, "-c", _IMPORT_COST, *names], capture_output=True, text=True)
    return int(result.stdout) if result.returncode == 0 and result.stdout.strip() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=100, help="projects sent at once after the warm-up (default 100)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()

    server = RedisServer()
    log_dir = Path(tempfile.mkdtemp(prefix="ytm-bench-logs-"))
    modules_dir = Path(tempfile.mkdtemp(prefix="ytm-bench-modules-"))
    system = YtmakerSystem(server.url(0), log_dir, extra_env={"BENCH_MODULES_DIR": str(modules_dir)})
    system.start()
    try:
        for i in range(3):
            pid = system.new_project(i)
            system.send(pid)
            wait_done(system, [pid], timeout_s=120, interval_s=0.05)
        ids = [system.new_project(i) for i in range(args.projects)]
        for pid in ids:
            system.send(pid)
        wait_done(system, ids, timeout_s=600, interval_s=0.1)
        time.sleep(2.5)  # module lists are written once a second
        rows = []
        for (name, command), leader in zip(procfile_commands().items(), system.workers.processes, strict=True):
            kids = children(leader.pid)
            roles = [("scheduler (periodiq)" if "periodiq" in command else "dramatiq parent (CLI)", leader.pid)]
            n_workers = int(command.split("--processes", 1)[1].split()[0]) if "--processes" in command else 0
            roles += [("worker process" if i < n_workers else "fork: Prometheus exposition", kid) for i, kid in enumerate(kids)]
            for role, pid in roles:
                libs = libraries_kb(pid)
                names = modules(pid, modules_dir)
                rows.append({"line": name, "role": role, "pid": pid, **memory_kb(pid),
                             "libraries": sorted(libs.items(), key=lambda kv: -kv[1])[:6],
                             "libraries_kb": sum(libs.values()), "modules": names, "packages": packages(names)})
    finally:
        system.stop()
        server.stop()

    print(f"Procfile workers after 3 + {args.projects} projects (kB -> MB)")
    print("| line | process | RSS MB | PSS MB | private MB | threads | .so resident MB | third-party packages imported |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['line']} | {r['role']} | {r['rss'] / 1024:.1f} | {r['pss'] / 1024:.1f} | {r['uss'] / 1024:.1f} | "
              f"{r['threads']} | {r['libraries_kb'] / 1024:.1f} | {len(r['packages'])}: {', '.join(r['packages'])} |")
    total = {k: sum(r[k] for r in rows) / 1024 for k in ("rss", "pss", "uss")}
    print(f"| **all** | {len(rows)} processes | **{total['rss']:.0f}** | **{total['pss']:.0f}** | **{total['uss']:.0f}** | | | |")
    by_role: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for r in rows:
        for i, k in enumerate(("rss", "pss", "uss")):
            by_role[r["role"]][i] += r[k] / 1024
    print("\n| process kind | count | RSS MB | PSS MB | private MB |\n|---|---|---|---|---|")
    for role, (rss, pss, uss) in sorted(by_role.items(), key=lambda kv: -kv[1][0]):
        print(f"| {role} | {sum(r['role'] == role for r in rows)} | {rss:.0f} | {pss:.0f} | {uss:.0f} |")
    print("\nLargest resident shared libraries, per process kind (MB, first process of the kind):")
    seen = set()
    for r in rows:
        if r["role"] not in seen:
            seen.add(r["role"])
            print(f"- {r['role']} ({r['line']}): " + ", ".join(f"{short(p)} {kb / 1024:.1f}" for p, kb in r["libraries"]))
    loaded: dict[str, set[str]] = defaultdict(set)  # package -> its modules loaded by any process
    for r in rows:
        for module in r["modules"]:
            if module.split(".")[0] in r["packages"]:
                loaded[module.split(".")[0]].add(module)
    costs = {p: import_cost_kb(sorted(names)) for p, names in loaded.items()}
    costs["ytmaker.actors (everything a worker imports at start)"] = import_cost_kb(["ytmaker.actors"])
    print("\nRSS a fresh interpreter gains importing the modules of each package that the workers loaded "
          "(MB; a dependency shared by several packages is counted in each):")
    print(", ".join(f"{p} {c / 1024:.1f}" for p, c in sorted(costs.items(), key=lambda kv: -(kv[1] or 0)) if c is not None))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "import_cost_kb": costs}, indent=2))
    print(f"\n(python: {BIN / 'python'})", file=sys.stderr)


if __name__ == "__main__":
    main()
