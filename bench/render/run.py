"""Render benchmark: ytmaker against the encoder floor, a hand-tuned FFmpeg slideshow and MoviePy.

    python bench/render/run.py            # median of 3, MoviePy on 2 of the 10 slides, 10-minute video at final
    python bench/render/run.py --quick    # one run each, MoviePy on 1 slide, 10-minute video at draft

Same inputs for every renderer: 10 slides (ytmaker's offline slides, 1920x1080),
60 s of narration (10 tones of 5.6 s: the renderer's cost does not depend on
what is said) and one 30 s music track (pink noise and a chord, made by FFmpeg),
1080p30, the ``final`` preset's x264 settings. Each case runs as its own process
tree; wall time is measured around it and peak memory is the largest sum of the
tree's RSS seen by polling every 50 ms. MoviePy renders frames in Python and
takes minutes per slide here, so it renders the first slides only and its time is
scaled to 10 (its cost is per frame, so linear); its memory is as measured.

Needs the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.render.threads import ThreadSampler, attribute  # noqa: E402
from ytmaker.media import render as media  # noqa: E402
from ytmaker.media.ffmpeg import ffmpeg_exe  # noqa: E402
from ytmaker.media.stills import concat_list as still_list  # noqa: E402

SLIDES = 10
NARRATION_S = 5.6  # per slide: 10 x (5.6 + 0.4 pause) = 60 s, plus the tail
WIDTH, HEIGHT = 1920, 1080
CLIP_S = 4.0  # the clips case's footage, per segment
#: the footage's height: 720, the file ytmaker.providers.pexels picks for a 1080p video (COVER); 1080 to compare
CLIP_HEIGHT = int(os.environ.get("BENCH_CLIP_HEIGHT", "720"))
TEXT = ("Solar panels got cheap because factories learned to make them at scale. "
        "Every doubling of production cut the price by about a fifth.")


def prepare(work: Path) -> dict:
    """The shared inputs: slides, narration tones, music; returns their paths and timings."""
    from ytmaker.providers.base import ImageRequest
    from ytmaker.providers.slides import SlideImages, headline

    slides, tones = [], []
    for i in range(SLIDES):
        slide = work / f"slide{i:02d}.png"
        if not slide.exists():
            SlideImages().generate(ImageRequest(i, "", headline(TEXT), "Why solar power got cheap", WIDTH, HEIGHT, "16:9"), slide)
        tone = work / f"narration{i:02d}.wav"
        if not tone.exists():
            _ffmpeg("-f", "lavfi", "-i", f"sine=frequency={180 + 15 * i}:sample_rate=24000:duration={NARRATION_S}",
                    "-af", "tremolo=f=4:d=0.6", str(tone))
        slides.append(slide)
        tones.append(tone)
    music = work / "music.wav"
    if not music.exists():
        _ffmpeg("-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.2:sample_rate=48000:duration=30",
                "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000:duration=30",
                "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000:duration=30",
                "-filter_complex", "amix=inputs=3", str(music))
    clips = []
    for i in range(SLIDES):  # stock-like footage: H.264 High at 25 fps, 4 s (shorter than a segment: looped)
        clip = work / f"clip{CLIP_HEIGHT}-{i:02d}.mp4"
        if not clip.exists():
            _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={CLIP_HEIGHT * 16 // 9}x{CLIP_HEIGHT}:rate=25:duration={CLIP_S}",
                    "-vf", f"hue=h={36 * i}",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                    "-video_track_timescale", "90000", str(clip))
        clips.append(clip)
    durations = media.segment_durations([NARRATION_S] * SLIDES)
    return {"slides": [str(s) for s in slides], "tones": [str(t) for t in tones], "music": str(music),
            "clips": [str(c) for c in clips],
            "durations": durations, "total_s": media.timeline(durations).duration_s}


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


# --- the cases, each run in a child process ---------------------------------------------------

def case_ytmaker(inputs: dict, out: Path, quality: str = "final", repeat: int = 1, captions: str = "words",
                 clips: bool = False) -> None:
    """ytmaker's renderer with motion, subtitles (``captions``: words lit one by one, or sentences) and ducked music.

    ``repeat`` x the slides for long videos. The words are timed evenly over each tone, as a speech
    engine's timings would place them.

    The process imports ytmaker.media only, as a worker that has its stages loaded already would
    render: importing the pipeline (SQLAlchemy, Dramatiq, providers) costs 0.7 CPU-s and 50 MB that
    are not the render's.
    """
    import re

    from ytmaker.media.captions import make_captions
    from ytmaker.media.subtitles import CaptionStyle

    n = SLIDES * repeat
    segments = [media.RenderSegment(Path(inputs["slides"][i % SLIDES]), Path(inputs["tones"][i % SLIDES]),
                                    inputs["durations"][i % SLIDES] if i < n - 1 else inputs["durations"][-1], TEXT,
                                    narration_s=NARRATION_S, clip=Path(inputs["clips"][i % SLIDES]) if clips else None, clip_s=CLIP_S)
                for i in range(n)]
    spec = media.RenderSpec(segments, out, quality=quality, music=Path(inputs["music"]))
    words = [(m.start(), round(NARRATION_S * m.start() / len(TEXT), 3)) for m in re.finditer(r"\S+", TEXT)]
    cued = make_captions([TEXT] * n, spec.timeline.starts_s, [NARRATION_S] * n, spec.size, out.parent, [words] * n,
                         look=CaptionStyle(mode=captions), hold_s=[media.PAUSE_S] * n)
    media.render(dataclasses.replace(spec, captions=cued))


def case_interpreter(inputs: dict, out: Path) -> None:
    """What the ``ytmaker`` case's process costs before it renders: the interpreter and the same imports.

    A worker renders in a process that is running already; the render's own CPU time is the
    ``ytmaker`` case's less this one (both figures are reported).
    """
    from ytmaker.media.captions import make_captions  # noqa: F401  (the ytmaker case's imports)
    from ytmaker.media.subtitles import CaptionStyle  # noqa: F401
    out.write_bytes(b"")


def encoder_args() -> list[str]:
    preset, crf = media.PRESETS["final"]
    return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), *media.X264_EXTRA, "-profile:v", "high",
            "-pix_fmt", "yuv420p"]


def case_floor(inputs: dict, out: Path) -> None:
    """The encoder alone: x264 with the final settings on a moving synthetic source of the same size, rate, length."""
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={media.FPS}", "-t", f"{inputs['total_s']:.3f}",
            *encoder_args(), "-movflags", "+faststart", str(out))


def case_reencode(inputs: dict, out: Path, source: str) -> None:
    """The tighter floor's encode: ytmaker's own frames (decoded from ``source``) through x264 with the same settings."""
    _ffmpeg("-i", source, "-an", *encoder_args(), "-r", str(media.FPS), "-movflags", "+faststart", str(out))


def case_decode(inputs: dict, out: Path, source: str) -> None:
    """What ``reencode`` spends decoding (subtracted from it): ``source`` decoded to nothing."""
    _ffmpeg("-i", source, "-an", "-f", "null", "-")
    out.write_bytes(b"")


def case_frames(inputs: dict, out: Path) -> None:
    """The ``ytmaker`` case's frames themselves, uncompressed (YUV4MPEG beside ``out``): the same render with its
    video written raw and its sound to nothing, for a floor on exactly the frames x264 got (``exact``)."""
    build = media.build_args

    def raw(spec: media.RenderSpec, level: media.Level = media.UNMEASURED) -> list[str]:
        args = build(spec, level)
        return [*args[:args.index("-map")], "-map", "[vout]", "-t", f"{spec.duration_s:.3f}", "-c:v", "rawvideo",
                "-f", "yuv4mpegpipe", str(out.with_suffix(".y4m")), "-map", "[aout]", "-f", "null", "-"]

    media.build_args = raw  # render() looks it up when it runs
    case_ytmaker(inputs, out)
    out.write_bytes(b"")


def case_footage(inputs: dict, out: Path) -> None:
    """What any renderer spends decoding the clips case's footage: each clip decoded for its segment's length (looped)."""
    for clip, duration in zip(inputs["clips"], inputs["durations"]):
        _ffmpeg("-stream_loop", "-1", "-i", clip, "-t", f"{duration:.3f}", "-an", "-f", "null", "-")
    out.write_bytes(b"")


def case_zoompan(inputs: dict, out: Path) -> None:
    """A hand-tuned FFmpeg slideshow: one still stream, one zoompan, narration; no subtitles, fades or music."""
    stills = out.with_suffix(".stills.txt")
    stills.write_text(still_list([Path(s) for s in inputs["slides"]], [1] * SLIDES, media.FPS))
    voice = out.with_suffix(".voice.txt")
    voice.write_text("ffconcat version 1.0\n" + "".join(f"file '{t}'\n" for t in inputs["tones"]))
    frames = round(inputs["durations"][0] * media.FPS)
    _ffmpeg("-f", "concat", "-safe", "0", "-i", str(stills), "-f", "concat", "-safe", "0", "-i", str(voice),
            "-filter_complex",
            f"[0:v]scale={WIDTH}:{HEIGHT},format=yuv420p,"
            f"zoompan=z='1+0.12*on/{frames}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d={frames}:s={WIDTH}x{HEIGHT}:fps={media.FPS}[v];"
            "[1:a]apad[a]",
            "-map", "[v]", "-map", "[a]", "-t", f"{inputs['total_s']:.3f}", *encoder_args(),
            "-c:a", "aac", "-ar", "48000", "-movflags", "+faststart", str(out))


def case_moviepy(inputs: dict, out: Path, slides: int) -> None:
    """MoviePy 2.x: each slide zooms in 12 % over its duration, composited at 1080p, narration under it."""
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, concatenate_audioclips, concatenate_videoclips

    preset, crf = media.PRESETS["final"]
    clips, voices = [], []
    for i in range(slides):
        duration = inputs["durations"][i]
        zoom = ImageClip(inputs["slides"][i], duration=duration).resized(lambda t, d=duration: 1 + 0.12 * t / d)
        clips.append(CompositeVideoClip([zoom.with_position("center")], size=(WIDTH, HEIGHT)).with_duration(duration))
        voices.append(AudioFileClip(inputs["tones"][i]))
    video = concatenate_videoclips(clips).with_audio(concatenate_audioclips(voices))
    video.write_videofile(str(out), fps=media.FPS, codec="libx264", preset=preset, audio_codec="aac", threads=2,
                          ffmpeg_params=["-crf", str(crf), "-profile:v", "high", "-pix_fmt", "yuv420p"], logger=None)


CASES = {"ytmaker": case_ytmaker, "interpreter": case_interpreter, "floor": case_floor, "zoompan": case_zoompan, "moviepy": case_moviepy,
         "reencode": case_reencode, "decode": case_decode, "footage": case_footage,
         "frames": case_frames}


# --- measuring --------------------------------------------------------------------------------

def measure(case: str, inputs_file: Path, out: Path, threads: bool = False, **options) -> dict:
    """Run one case in a child process; wall time, peak RSS of its process tree, the load around it.

    ``threads``: also each thread's CPU time, polled every 10 ms, split by part (bench/render/threads.py).
    """
    command = [sys.executable, __file__, "--child", case, "--inputs", str(inputs_file), "--out", str(out),
               "--options", json.dumps(options)]
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command)
    root = psutil.Process(process.pid)
    peak = peak_ffmpeg = 0
    loads = [load_before]
    sampler = ThreadSampler()
    while process.poll() is None:
        loads.append(os.getloadavg()[0])
        try:
            tree = [root, *root.children(recursive=True)]
            if threads:
                sampler.poll(tree)
            sizes = [(p.name(), p.memory_info().rss) for p in tree if p.is_running()]
            peak = max(peak, sum(rss for _, rss in sizes))
            peak_ffmpeg = max(peak_ffmpeg, sum(rss for name, rss in sizes if "ffmpeg" in name))
        except psutil.Error:
            pass
        time.sleep(0.01 if threads else 0.05)
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the tree's CPU time: all of it is reaped by now
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    if process.returncode != 0:
        raise SystemExit(f"{case} failed (exit {process.returncode})")
    result = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mb": round(peak / 2**20),
              "peak_ffmpeg_mb": round(peak_ffmpeg / 2**20), "load": round(load_before, 2),
              "load_max": round(max(loads), 2), "size_mb": round(out.stat().st_size / 2**20, 1)}
    return result | ({"parts": attribute(sampler.seen, cpu)} if threads else {})


def paired(inputs_file: Path, work: Path, rounds: int) -> None:
    """ytmaker's render against the two same-content floors, measured round by round: on shared cores the CPU time
    of one encode drifted by 15-25 % between minutes, so cases run minutes apart are not comparable. Each round runs
    every case once, the order reversed every other round, and gives its own ratios; the medians are the figures."""
    measure("frames", inputs_file, work / "frames.mp4")  # ytmaker's frames, uncompressed, once
    names = ["ytmaker", "interpreter", "reencode", "decode", "exact-reencode", "exact-decode"]
    sources = {"reencode": work / "ytmaker.mp4", "decode": work / "ytmaker.mp4",
               "exact-reencode": work / "frames.y4m", "exact-decode": work / "frames.y4m"}
    same_ratios, exact_ratios = [], []
    print("\n| round | ytmaker's own CPU-s | same-content floor | ratio | floor on its own frames | ratio |")
    print("|---|---|---|---|---|---|")
    for i in range(rounds):
        cpu = {}
        for name in names if i % 2 == 0 else names[::-1]:
            options = {"source": str(sources[name])} if name in sources else {}
            cpu[name] = measure(name.removeprefix("exact-"), inputs_file, work / f"{name}.mp4", **options)["cpu_s"]
        own = cpu["ytmaker"] - cpu["interpreter"]
        same, exact = cpu["reencode"] - cpu["decode"], cpu["exact-reencode"] - cpu["exact-decode"]
        same_ratios.append(own / same)
        exact_ratios.append(own / exact)
        print(f"| {i + 1} | {own:.1f} | {same:.1f} | {own / same:.2f} | {exact:.1f} | {own / exact:.2f} |", flush=True)
    (work / "frames.y4m").unlink(missing_ok=True)
    print(f"\nmedian over {rounds} rounds: against the same-content floor (a decoded copy) "
          f"{statistics.median(same_ratios):.2f} ({min(same_ratios):.2f}-{max(same_ratios):.2f}); against x264 on "
          f"ytmaker's own frames {statistics.median(exact_ratios):.2f} ({min(exact_ratios):.2f}-{max(exact_ratios):.2f}); "
          "target <= 1.25")


def attributed(inputs_file: Path, work: Path, runs: int) -> None:
    """ytmaker's render against x264 inside the same run (bench/render/threads.py): the issue's ratio without the drift
    between runs. Each run's own CPU is its tree's less the interpreter's start (measured just before it)."""
    print("\n| run | x264 | filter graph | AAC | rest of the render | stills and audio passes | Python | unseen "
          "| own CPU-s | own / x264 | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for i in range(runs):
        start = measure("interpreter", inputs_file, work / "interpreter.mp4")["cpu_s"]
        result = measure("ytmaker", inputs_file, work / "ytmaker.mp4", threads=True)
        parts = result["parts"]
        own = result["cpu_s"] - start
        ratios.append(own / parts["x264"])
        print(f"| {i + 1} | {parts['x264']:.2f} | {parts['filters']:.2f} | {parts['aac']:.2f} | {parts['render other']:.2f} "
              f"| {parts['passes']:.2f} | {parts['python'] - start:.2f} | {parts['unseen']:.2f} | {own:.2f} "
              f"| {ratios[-1]:.3f} | {result['wall_s']} |", flush=True)
    print(f"\nmedian over {runs} runs: the render's own CPU / its x264's {statistics.median(ratios):.3f} "
          f"({min(ratios):.3f}-{max(ratios):.3f}); target <= 1.25")


def clips_bound(results: dict) -> None:
    """The least CPU any renderer of the clips case spends: x264 on the frames it made (the same-content floor of its
    video) plus decoding the footage, which every renderer must do; against the floor and against ytmaker."""
    x264 = results["clips-reencode"]["cpu_s"] - results["clips-decode"]["cpu_s"]
    bound = x264 + results["footage"]["cpu_s"]
    floor, clips = results["floor"]["cpu_s"], results["clips"]["cpu_s"]
    print(f"clips lower bound = x264 on the clips video's frames {x264:.1f} + decoding the footage "
          f"{results['footage']['cpu_s']:.1f} = {bound:.1f} CPU-s = {bound / floor:.2f}x the floor (budget 1.3x); "
          f"ytmaker {clips:.1f} CPU-s = {clips / floor:.2f}x the floor, {clips / bound:.2f}x the lower bound")


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    version = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "ffmpeg": version, "platform": platform.platform()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run each, MoviePy on one slide, 10-minute video at draft")
    parser.add_argument("--runs", type=int, default=None, help="runs per case (default 3, --quick 1)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="cases (ytmaker floor same exact reencode decode sentences clips clips-bound zoompan moviepy draft long "
                             "clips-long)")
    parser.add_argument("--moviepy-slides", type=int, default=None, help="slides MoviePy renders (default 2, --quick 1)")
    parser.add_argument("--long-quality", choices=["final", "draft"], default=None,
                        help="quality of the 10-minute video (default final, --quick draft)")
    parser.add_argument("--work", type=Path, default=None, help="working directory (default: a temporary one)")
    parser.add_argument("--paired", type=int, default=0, metavar="ROUNDS",
                        help="ytmaker against both same-content floors in ROUNDS interleaved rounds (see paired())")
    parser.add_argument("--attribute", type=int, default=0, metavar="RUNS",
                        help="ytmaker's render against its own x264 threads, by thread, in RUNS runs (see attributed())")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        CASES[args.child](json.loads(args.inputs.read_text()), args.out, **json.loads(args.options))
        return

    runs = args.runs or (1 if args.quick else 3)
    moviepy_slides = args.moviepy_slides or (1 if args.quick else 2)
    wanted = set(args.only or ["ytmaker", "floor", "zoompan", "moviepy", "draft", "long"])
    work = args.work or Path(tempfile.mkdtemp(prefix="ytmaker-bench-render-"))
    work.mkdir(parents=True, exist_ok=True)
    inputs = prepare(work)
    inputs_file = work / "inputs.json"
    inputs_file.write_text(json.dumps(inputs))
    print(json.dumps({"machine": machine(), "video_s": inputs["total_s"], "runs": runs}, indent=2), flush=True)

    if args.paired:
        paired(inputs_file, work, args.paired)
        return
    if args.attribute:
        attributed(inputs_file, work, args.attribute)
        return
    same = str(work / "ytmaker.mp4")  # the tighter floor re-encodes the frames the ytmaker case made
    plan = [("floor", {}), ("ytmaker", {}), ("reencode", {"source": same}), ("decode", {"source": same}), ("interpreter", {}),
            ("sentences", {"captions": "sentences"}), ("clips", {"clips": True}),
            ("clips-reencode", {"source": str(work / "clips.mp4")}), ("clips-decode", {"source": str(work / "clips.mp4")}),
            ("footage", {}), ("frames", {}), ("exact-reencode", {"source": str(work / "frames.y4m")}),
            ("exact-decode", {"source": str(work / "frames.y4m")}),
            ("zoompan", {}), ("draft", {"quality": "draft"}), ("moviepy", {"slides": moviepy_slides})]
    if "same" in wanted:
        wanted |= {"ytmaker", "reencode", "decode", "interpreter"}
    if "exact" in wanted:  # the same-content floor on ytmaker's frames themselves rather than a decoded copy
        wanted |= {"ytmaker", "reencode", "decode", "interpreter", "frames", "exact-reencode", "exact-decode"}
    if "clips-bound" in wanted:  # what no renderer of the clips case can go below (clips_bound)
        wanted |= {"floor", "clips", "clips-reencode", "clips-decode", "footage"}
    results: dict[str, dict] = {}
    for name, options in plan:
        if name not in wanted:
            continue
        case = "ytmaker" if name in ("draft", "sentences", "clips") else name.removeprefix("clips-").removeprefix("exact-")
        samples = [measure(case, inputs_file, work / f"{name}.mp4", **options) for _ in range(runs)]
        result = {"wall_s": statistics.median(s["wall_s"] for s in samples),
                  "cpu_s": statistics.median(s["cpu_s"] for s in samples),
                  "peak_mb": max(s["peak_mb"] for s in samples),
                  "peak_ffmpeg_mb": max(s["peak_ffmpeg_mb"] for s in samples), "samples": samples}
        if name == "moviepy":
            result["slides"] = moviepy_slides
            result["wall_s_for_10_slides"] = round(result["wall_s"] * SLIDES / moviepy_slides, 1)
            result["cpu_s_for_10_slides"] = round(result["cpu_s"] * SLIDES / moviepy_slides, 1)
        results[name] = result
        print(json.dumps({name: result}), flush=True)
    if "long" in wanted:
        quality = args.long_quality or ("draft" if args.quick else "final")
        results["long"] = measure("ytmaker", inputs_file, work / "long.mp4", quality=quality, repeat=10)
        results["long"]["quality"] = quality
        print(json.dumps({"long": results["long"]}), flush=True)
    if "clips-long" in wanted:  # the 10-minute video with a clip on every segment (--long-quality too)
        quality = args.long_quality or ("draft" if args.quick else "final")
        results["clips-long"] = measure("ytmaker", inputs_file, work / "clips-long.mp4", quality=quality, repeat=10, clips=True)
        results["clips-long"]["quality"] = quality
        print(json.dumps({"clips-long": results["clips-long"]}), flush=True)

    print("\n| case | wall s (median) | CPU s | peak MB (tree) | peak MB (FFmpeg) | load (1 min) |")
    print("|---|---|---|---|---|---|")
    for name, result in results.items():
        wall = result.get("wall_s_for_10_slides", result["wall_s"])
        cpu = result.get("cpu_s_for_10_slides", result["cpu_s"])
        samples = result.get("samples", [result])
        load = f"{min(s['load'] for s in samples):.1f}–{max(s['load_max'] for s in samples):.1f}"
        print(f"| {name} | {wall} | {cpu} | {result['peak_mb']} | {result['peak_ffmpeg_mb']} | {load} |")
    if {"reencode", "decode", "ytmaker"} <= results.keys():
        floor_cpu = results["reencode"]["cpu_s"] - results["decode"]["cpu_s"]
        print(f"\nsame-content floor (x264 on ytmaker's frames) = {results['reencode']['cpu_s']} - "
              f"{results['decode']['cpu_s']} (its decode) = {floor_cpu:.1f} CPU-s; "
              f"ytmaker / same-content floor = {results['ytmaker']['cpu_s'] / floor_cpu:.2f} CPU (target <= 1.25)")
    if {"reencode", "decode", "ytmaker", "interpreter"} <= results.keys():
        own = results["ytmaker"]["cpu_s"] - results["interpreter"]["cpu_s"]
        print(f"the render's own CPU (less the process's start, {results['interpreter']['cpu_s']} CPU-s) = {own:.1f}; "
              f"/ same-content floor = {own / floor_cpu:.2f} (target <= 1.25)")
    if {"exact-reencode", "exact-decode", "ytmaker", "interpreter"} <= results.keys():
        exact = results["exact-reencode"]["cpu_s"] - results["exact-decode"]["cpu_s"]
        own = results["ytmaker"]["cpu_s"] - results["interpreter"]["cpu_s"]
        print(f"x264 on ytmaker's own frames (uncompressed) = {results['exact-reencode']['cpu_s']} - "
              f"{results['exact-decode']['cpu_s']} (reading them) = {exact:.1f} CPU-s; ytmaker / it = "
              f"{results['ytmaker']['cpu_s'] / exact:.2f}, the render's own CPU / it = {own / exact:.2f}")
        (work / "frames.y4m").unlink(missing_ok=True)  # 5.6 GB for the minute
    if "floor" in results and "ytmaker" in results:
        print(f"\nytmaker / floor = {results['ytmaker']['wall_s'] / results['floor']['wall_s']:.2f} wall, "
              f"{results['ytmaker']['cpu_s'] / results['floor']['cpu_s']:.2f} CPU (target <= 1.1)")
    if "floor" in results and "clips" in results:
        print(f"clips / floor = {results['clips']['cpu_s'] / results['floor']['cpu_s']:.2f} CPU (target <= 1.3)")
    if {"floor", "clips", "clips-reencode", "clips-decode", "footage"} <= results.keys():
        clips_bound(results)
    if "moviepy" in results and "ytmaker" in results:
        print(f"moviepy / ytmaker = {results['moviepy']['wall_s_for_10_slides'] / results['ytmaker']['wall_s']:.1f} wall, "
              f"{results['moviepy']['cpu_s_for_10_slides'] / results['ytmaker']['cpu_s']:.1f} CPU (target >= 5)")
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nresults: {work / 'results.json'}")


if __name__ == "__main__":
    main()
