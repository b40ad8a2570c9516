"""Image fan-out: one project's images spread over the assets workers, against the loop in one thread.

    python bench/orchestration/fanout.py                  # 20 segments, 0.5 s per image, 3 projects per mode
    python bench/orchestration/fanout.py --projects 1     # quicker
    python bench/orchestration/fanout.py --provider pexels                      # real Pexels provider, 2 s search + 2 s download
    python bench/orchestration/fanout.py --provider pexels --search-delay 1 --download-delay 1

ytmaker's real pipeline with the Procfile's workers on a private Redis and
PostgreSQL (as run.py), instant providers, and an image provider that waits
``--delay`` seconds per image (a remote provider's latency). Projects are sent
one at a time; the figure is the images stage's wall time, from its start to
its finish as recorded in ``stage_runs``, against the ideal
ceil(segments / concurrency) x delay, where concurrency is the assets queue's
processes x threads in the Procfile (target: within 1.3x).

``--provider pexels``: the real Pexels footage provider (ytmaker.providers.pexels,
with its Redis rate limiter, retries and FFmpeg intake) against
bench/orchestration/fake_pexels.py in a process of its own, which answers each
video search after ``--search-delay`` and each clip download after
``--download-delay`` seconds. Every search answers a clip id never seen before
and the clip cache is emptied after each project, so each segment pays a
search, a download, a probe, a remux and a poster. The per-clip latency is
search + download delay; the ideal is ceil(segments / concurrency) x that.
The provider's rate limiter (a slot in Redis before each search) runs as
deployed, at its default 200 searches an hour when the run needs fewer (the
default run needs ~90; the private Redis starts empty), else raised with
YTMAKER_PEXELS_RATE_PER_HOUR so that a long run is not refused. A breakdown per
clip follows, from the fake's request log, the intake's files' times and the
image records' times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.orchestration.harness import ROOT, RedisServer, median
from bench.orchestration.systems import YtmakerSystem, procfile_commands, wait_done

PEXELS_KEY = "bench-pexels-key"


def assets_concurrency() -> int:
    command = procfile_commands()["assets"]
    processes = int(re.search(r"--processes (\d+)", command).group(1))
    threads = int(re.search(r"--threads (\d+)", command).group(1))
    return processes * threads


def text_for(segments: int) -> str:
    # The offline writer groups about three of these sentences per segment.
    return " ".join(f"Fact number {i} is that a honeybee visits about {i * 7} flowers on one trip."
                    for i in range(1, 3 * segments + 1))


def utc(moment: dt.datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


@dataclass
class Provider:
    """What the workers are told to use, the latency of one segment's image, and (Pexels) the fake's address."""

    latency_s: float
    env: dict[str, str]
    fake_url: str | None = None
    search_delay_s: float = 0.0
    download_delay_s: float = 0.0

    def log(self) -> list[list]:
        if self.fake_url is None:
            return []
        with urllib.request.urlopen(f"{self.fake_url}/bench/log", timeout=10) as answer:
            return json.loads(answer.read())


@dataclass
class Project:
    """One counted project: its images stage, and for Pexels the per-clip timeline."""

    wall_s: float
    segments: int
    cpu_s: float  # the workers' CPU over the project (all stages; the images stage is most of it)
    busy_s: float  # the machine's CPU over the project: the workers' and everyone else's
    clips: list[dict] = field(default_factory=list)  # per segment: search/download arrival and answer, image recorded
    start: float = 0.0  # the images stage's start (Unix time)


def machine_busy_s() -> float:
    """CPU-seconds the whole machine has spent busy (every process, ours and anyone else's) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


def clip_timeline(system: YtmakerSystem, project_id: str, log: list[list]) -> list[dict]:
    """Per segment: its clip's search and download (the fake's times) and when its image was recorded."""
    from sqlalchemy import select

    from ytmaker.db.models import Asset

    by_id: dict[int, dict] = {}
    for kind, video_id, arrived, answered in log:
        by_id.setdefault(video_id, {})[kind] = (arrived, answered)
    with system.rt.db.session() as session:
        records = dict(session.execute(select(Asset.segment_index, Asset.created_at)
                                       .where(Asset.project_id == project_id, Asset.kind == "image")).all())
    clips = []
    for sidecar in sorted((system.rt.project_dir(project_id) / "images").glob("*.clip.json")):
        index = int(sidecar.name.split(".")[0])
        stored = json.loads(sidecar.read_text())["clip"]
        found = by_id.get(int(Path(stored).stem)) if stored else None
        if found is None or set(found) != {"search", "download"}:  # a photo or slide, or a clip this project did not fetch
            raise RuntimeError(f"segment {index} has no clip of its own from the fake ({stored}): a fallback or a cache hit")
        clip = system.rt.path(stored)
        # The files' times tell the intake's steps apart: the clip is written by the remux, its .json after probing it
        # again, the picture by the poster's FFmpeg (renames keep a file's time).
        clips.append({"search": found["search"], "download": found["download"], "remuxed": clip.stat().st_mtime,
                      "probed": clip.with_suffix(".json").stat().st_mtime,
                      "poster": sidecar.with_name(f"{index:03d}.png").stat().st_mtime, "recorded": utc(records[index])})
    return clips


def run_mode(fanout: str, redis_url: str, segments: int, projects: int, provider: Provider, warmup_segments: int) -> list[Project]:
    from sqlalchemy import select

    from ytmaker.db.models import Script, StageRun
    from ytmaker.projects import create_project

    system = YtmakerSystem(redis_url, Path(tempfile.mkdtemp(prefix="ytm-fanout-logs-")),
                           extra_env={"YTMAKER_IMAGE_FANOUT": fanout, **provider.env})
    system.start()
    done = []
    try:
        for n in range(projects + 1):  # the first warms the workers up and is not counted
            size = warmup_segments if n == 0 else segments
            logged = len(provider.log())
            cpu, busy = system.workers.cpu_s(), machine_busy_s()
            project = create_project(system.rt, text_for(size))
            system.send(project.id)
            wait_done(system, [project.id], timeout_s=120 + 2 * size * provider.latency_s, interval_s=0.02)
            cpu, busy = system.workers.cpu_s() - cpu, machine_busy_s() - busy
            with system.rt.db.session() as session:
                run = session.get(StageRun, (project.id, "images"))
                count = len(session.scalar(select(Script.segments).where(Script.project_id == project.id)))
            clips = clip_timeline(system, project.id, provider.log()[logged:]) if provider.fake_url else []
            if provider.fake_url and len(clips) != count:
                raise RuntimeError(f"{len(clips)} Pexels clips for {count} segments: a fallback or a cache hit")
            done.append(Project((run.finished_at - run.started_at).total_seconds(), count, cpu, busy, clips, utc(run.started_at)))
            shutil.rmtree(system.data_dir / "pexels", ignore_errors=True)  # the next project fetches every clip again
            time.sleep(0.2)
    finally:
        system.stop()
    return done[1:]


def start_fake(search_delay: float, download_delay: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("fake_pexels.py")), "--key", PEXELS_KEY,
                                "--search-delay", str(search_delay), "--download-delay", str(download_delay)],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        process.kill()
        sys.exit("the fake Pexels server did not start")
    return process, url


def in_flight(clips: list[dict], at: float) -> int:
    return sum(c["search"][0] <= at < c["download"][1] for c in clips)


def breakdown(projects: list[Project], concurrency: int, provider: Provider) -> list[str]:
    """Where a fanned-out clip's time goes, medians over every clip of the counted projects.

    With N threads taking parts first come, first served, the k-th search after
    the first N starts when the k-th image is recorded: the difference is the
    hand-over between one part and the next on a thread.
    """
    before, between, after, pickup, busy, peak = [], [], [], [], [], []
    for project in projects:
        clips = project.clips
        arrivals = sorted(c["search"][0] for c in clips)
        recorded = sorted(c["recorded"] for c in clips)
        before += [a - project.start for a in arrivals[:concurrency]]
        pickup += [a - r for a, r in zip(arrivals[concurrency:], recorded, strict=False)]
        between += [c["download"][0] - c["search"][1] for c in clips]
        after += [c["recorded"] - c["download"][1] for c in clips]
        busy += [c["recorded"] - c["search"][0] for c in clips]
        peak.append(max(in_flight(clips, c["search"][0]) for c in clips))
    every = [c for p in projects for c in p.clips]
    searches = [c["search"][1] - c["search"][0] for c in every]
    downloads = [c["download"][1] - c["download"][0] for c in every]
    rows = [
        ("stage start -> a first-wave part's search (dispatch)", before),
        (f"search asked -> answered, at the fake (its delay {provider.search_delay_s:g} s)", searches),
        (f"download asked -> last byte written, at the fake (its delay {provider.download_delay_s:g} s)", downloads),
        ("search answered -> its download asked (client)", between),
        ("download answered -> image recorded (probe, remux, probe, poster, record)", after),
        ("... download answered -> clip remuxed (the body read, probe, remux)", [c["remuxed"] - c["download"][1] for c in every]),
        ("... clip remuxed -> probed again", [c["probed"] - c["remuxed"] for c in every]),
        ("... probed -> poster written (FFmpeg: first frame to a 1920x1080 PNG)", [c["poster"] - c["probed"] for c in every]),
        ("... poster written -> image recorded (sidecar, checksum, INSERT)", [c["recorded"] - c["poster"] for c in every]),
        ("image recorded -> the next part's search on a freed thread (hand-over)", pickup),
        (f"search asked -> image recorded (provider latency {provider.latency_s:g} s included)", busy),
    ]
    lines = ["| per clip, fanned out | median s | max s |", "|---|---|---|"]
    lines += [f"| {label} | {median(values):.2f} | {max(values):.2f} |" for label, values in rows if values]
    lines.append(f"| clips in flight at the fake at once, peak per project | {', '.join(map(str, peak))} | |")
    return lines


def main() -> None:
    import redis

    from ytmaker.config import Settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--provider", choices=("instant", "pexels"), default="instant")
    parser.add_argument("--delay", type=float, default=0.5, help="instant: seconds per image")
    parser.add_argument("--search-delay", type=float, default=2.0, help="pexels: seconds before each video search is answered")
    parser.add_argument("--download-delay", type=float, default=2.0, help="pexels: seconds before each clip download is answered")
    parser.add_argument("--projects", type=int, default=3, help="projects per mode (median)")
    parser.add_argument("--baseline-projects", type=int, default=None,
                        help="projects in one thread (default: --projects; pexels: 1, each takes segments x latency; 0 skips)")
    args = parser.parse_args()
    concurrency = assets_concurrency()
    started, load_before = dt.datetime.now(dt.UTC), os.getloadavg()
    default_rate = Settings.model_fields["pexels_rate_per_hour"].default
    server = RedisServer()
    fake, rows, slots = None, [], 0
    try:
        if args.provider == "pexels":
            fake, url = start_fake(args.search_delay, args.download_delay)
            baseline = 1 if args.baseline_projects is None else args.baseline_projects
            searches = concurrency + args.projects * args.segments + (2 + baseline * args.segments if baseline else 0)
            env = {"YTMAKER_IMAGE_PROVIDER": "pexels", "YTMAKER_PEXELS_API_KEY": PEXELS_KEY, "YTMAKER_PEXELS_BASE_URL": url}
            if searches > 0.8 * default_rate:  # the writer's segment count is "about" --segments: a margin
                env["YTMAKER_PEXELS_RATE_PER_HOUR"] = str(100 * searches)
            provider = Provider(args.search_delay + args.download_delay, env, url, args.search_delay, args.download_delay)
        else:
            provider = Provider(args.delay, {"YTMAKER_INSTANT_IMAGE_DELAY_S": str(args.delay)})
            baseline = args.projects if args.baseline_projects is None else args.baseline_projects
        for mode, projects in (("on", args.projects), ("off", baseline)):
            if projects:
                print(f"image fan-out {mode}: {projects} projects ...", file=sys.stderr, flush=True)
                # Pexels: a warm-up of one full wave (every thread, connection and FFmpeg path used once) is enough.
                warmup = args.segments if provider.fake_url is None else (concurrency if mode == "on" else 2)
                rows.append((mode, run_mode(mode, server.url(0), args.segments, projects, provider, warmup)))
        if provider.fake_url:
            slots = redis.Redis.from_url(server.url(0)).zcard("ytmaker:ratelimit:pexels")
    finally:
        server.stop()
        if fake is not None:
            fake.terminate()
            fake.wait(10)
    segments = rows[0][1][0].segments
    ideal = math.ceil(segments / concurrency) * provider.latency_s
    what = (f"{args.delay} s per image" if provider.fake_url is None else
            f"Pexels provider, {args.search_delay:g} s per search + {args.download_delay:g} s per download "
            f"= {provider.latency_s:g} s per clip")
    print(f"{started:%Y-%m-%d %H:%M}-{dt.datetime.now(dt.UTC):%H:%M} UTC, load average (1/5/15 min) "
          f"{'/'.join(f'{x:.1f}' for x in load_before)} at the start, {'/'.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
    print(f"{segments} segments, {what}, assets concurrency {concurrency} (Procfile); "
          f"ideal ceil({segments}/{concurrency}) x {provider.latency_s:g} = {ideal:.2f} s; in one thread {segments} x "
          f"{provider.latency_s:g} = {segments * provider.latency_s:.2f} s")
    # Others' work on the machine moves the figure: the machine's CPU beside the workers' own, per project (whole
    # project, send to completion; on a 2-core machine 2 CPU-s a second is everything).
    print(f"| images stage | wall s, median | runs | / ideal | CPU s per project: workers / whole machine ({os.cpu_count()} cores) |")
    print("|---|---|---|---|---|")
    for mode, projects in rows:
        label = "fanned out (one message per segment)" if mode == "on" else "loop in one thread (baseline)"
        walls = [p.wall_s for p in projects]
        print(f"| {label} | {median(walls):.2f} | {', '.join(f'{w:.2f}' for w in walls)} | {median(walls) / ideal:.2f}x | "
              f"{', '.join(f'{p.cpu_s:.1f} / {p.busy_s:.1f}' for p in projects)} |")
    if provider.fake_url is not None:
        limit = provider.env.get("YTMAKER_PEXELS_RATE_PER_HOUR", f"{default_rate} (the default)")
        print(f"Pexels rate limit {limit} an hour, shared in Redis: {slots} slots taken, one per search")
    if provider.fake_url is not None and rows[0][0] == "on":
        print()
        print("\n".join(breakdown(rows[0][1], concurrency, provider)))


if __name__ == "__main__":
    main()
