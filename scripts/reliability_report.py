"""Run the chaos suite and write its figures into docs/reliability.md.

    python scripts/reliability_report.py --run            # run tests/chaos, then write the table
    python scripts/reliability_report.py --results DIR    # only write the table from an earlier run's JSON
    python scripts/reliability_report.py --outages        # the long outages (tests/chaos/outages.py), added to the table

Each chaos scenario writes ``<scenario>.json`` into ``$CHAOS_RESULTS_DIR``
(see tests/chaos/conftest.py); this script renders them as the table between
the ``results`` markers of docs/reliability.md and leaves the prose alone.
The raw figures are kept beside it in docs/reliability-results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
RAW = ROOT / "docs" / "reliability-results.json"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
RECOVERY_TARGET_S = 30


def run_suite(results: Path, projects: int | None) -> tuple[int, float]:
    env = dict(os.environ, CHAOS_RESULTS_DIR=str(results))
    if projects:
        env["CHAOS_LOAD_PROJECTS"] = str(projects)
    started = time.monotonic()
    # A private base temp dir: pytest prunes all but the last three of the shared ones, even while another session runs.
    basetemp = tempfile.mkdtemp(prefix="chaos-tmp-")
    # -n 0: one test process, so the recovery times are measured without the other tests beside them
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", f"--basetemp={basetemp}",
                            "tests/chaos"], cwd=ROOT, env=env)
    return code, time.monotonic() - started


def run_outages(results: Path) -> tuple[int, float]:
    """PostgreSQL stopped 30 s and 90 s, Redis killed (AOF) and restarted empty, on private servers: minutes."""
    started = time.monotonic()
    code = subprocess.call([sys.executable, "-m", "tests.chaos.outages", str(results)], cwd=ROOT)
    return code, time.monotonic() - started


def seconds(value) -> str:
    return "–" if value is None else f"{value:.1f} s"


def table(rows: list[dict]) -> str:
    lines = ["| scenario | runs | passed | lost projects | duplicates | orphan processes | recovery median | recovery max | how |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['scenario']} | {r['runs']} | {r['passed']} | {r['lost']} | {r['duplicates']} | {r['orphans']} "
                     f"| {seconds(r['recovery_median_s'])} | {seconds(r['recovery_max_s'])} | {r['notes'].replace('|', '/')} |")
    return "\n".join(lines)


def summary(rows: list[dict], meta: dict) -> str:
    lost = sum(r["lost"] for r in rows)
    duplicates = sum(r["duplicates"] for r in rows)
    orphans = sum(r["orphans"] for r in rows)
    failed = [r["scenario"] for r in rows if r["passed"] != r["runs"]]
    kill = next((r for r in rows if r["scenario"] == "sigkill-each-stage"), None)
    fresh = len(rows) - meta.get("earlier_count", 0)
    code = "" if meta.get("exit_code") is None else f", exit code {meta['exit_code']}"
    parts = [f"Run of {meta['at']} on {meta['machine']}: {fresh} scenarios{code}"
             + (f", {meta['duration_s']:.0f} s" if meta.get("duration_s") else "")
             + (f"; the other {meta['earlier_count']} rows are from the run of {meta['earlier_at']}."
                if meta.get("earlier_count") else "."),
             f"Totals: {lost} lost, {duplicates} duplicates, {orphans} orphan processes"
             + (f"; scenarios not fully passed: {', '.join(failed)}." if failed else "; every run passed.")]
    if kill and kill["recovery_max_s"] is not None:
        verdict = "met" if kill["recovery_max_s"] < RECOVERY_TARGET_S else \
            f"missed by {kill['recovery_max_s'] - RECOVERY_TARGET_S:.1f} s"
        parts.append(f"Recovery target ({RECOVERY_TARGET_S} s from a new worker to completion after a SIGKILL, "
                     f"default settings): slowest {kill['recovery_max_s']:.1f} s, {verdict}.")
    return "\n\n".join(parts)


def write(rows: list[dict], meta: dict) -> None:
    rows = sorted(rows, key=lambda r: r["scenario"])
    block = f"{BEGIN}\n{summary(rows, meta)}\n\n{table(rows)}\n{END}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Reliability\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(head + block + tail, encoding="utf-8")
    RAW.write_text(json.dumps({"meta": meta, "scenarios": rows}, indent=2) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run tests/chaos first")
    parser.add_argument("--results", type=Path, help="folder of <scenario>.json files (default: a fresh one with --run)")
    parser.add_argument("--projects", type=int, help="projects in the load scenario (CHAOS_LOAD_PROJECTS)")
    parser.add_argument("--outages", action="store_true",
                        help="run the long outages; alone, their rows replace theirs in the last table")
    args = parser.parse_args()
    if not args.run and not args.results and not args.outages:
        parser.error("give --run, --results DIR, --outages, or some of them")
    results = args.results or Path(tempfile.mkdtemp(prefix="chaos-results-"))
    code, duration = (run_suite(results, args.projects) if args.run else (None, None))
    if args.outages:
        outage_code, outage_s = run_outages(results)
        code, duration = (code or outage_code), (duration or 0) + outage_s
    rows = [json.loads(p.read_text()) for p in sorted(results.glob("*.json"))]
    earlier = None
    if not args.run and RAW.exists():  # a partial run: its rows replace theirs, the rest of the last table stays
        last = json.loads(RAW.read_text())
        fresh = {r["scenario"] for r in rows}
        kept = [r for r in last["scenarios"] if r["scenario"] not in fresh]
        rows += kept
        earlier = dict(at=last["meta"].get("earlier_at") or last["meta"]["at"], count=len(kept)) if kept else None
    if not rows:
        print(f"no results in {results}", file=sys.stderr)
        return 1
    meta = dict(at=datetime.now(UTC).isoformat(timespec="minutes"), exit_code=code, duration_s=duration,
                machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if earlier:
        meta.update(earlier_at=earlier["at"], earlier_count=earlier["count"])
    write(rows, meta)
    print(f"wrote {DOC.relative_to(ROOT)} ({len(rows)} scenarios)")
    return 0 if code in (0, None) else code


if __name__ == "__main__":
    sys.exit(main())
