"""The render benchmark's split of CPU time by thread (bench/render/threads.py): by FFmpeg's thread names, on a real render."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
import time

import psutil

from bench.render.threads import ENCODER, ThreadSampler, attribute


def test_the_first_graph_thread_is_the_filters_and_the_other_ones_are_x264s():
    seen = {(10, 10): ("python", "python", 0.5),
            (20, 20): ("ffmpeg", "ffmpeg", 0.1), (20, 21): ("ffmpeg", "fc0", 0.2),  # a pass before the render
            (30, 31): ("ffmpeg", ENCODER, 1.0), (30, 32): ("ffmpeg", "enc0:1:aac", 0.4), (30, 33): ("ffmpeg", "fc0", 1.2),
            (30, 36): ("ffmpeg", "fc0", 3.0), (30, 37): ("ffmpeg", "fc0", 2.5), (30, 38): ("ffmpeg", "mux0:mp4", 0.1)}
    parts = attribute(seen, total_cpu_s=9.3)
    assert parts == {"x264": 6.5, "filters": 1.2, "aac": 0.4, "render other": 0.1, "passes": 0.3, "python": 0.5,
                     "unseen": 0.3}


_RENDER = textwrap.dedent("""
    import subprocess, sys
    from pathlib import Path
    from PIL import Image
    from ytmaker.media import render as media
    from ytmaker.media.ffmpeg import ffmpeg_exe
    work = Path(sys.argv[1])
    segments = []
    for i, colour in enumerate(["navy", "darkred"]):
        Image.new("RGB", (1280, 720), colour).save(work / f"{i}.png")
        subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"sine=frequency={300 + 100 * i}:duration=2",
                        str(work / f"{i}.wav")], check=True)
        segments.append(media.RenderSegment(work / f"{i}.png", work / f"{i}.wav", 2.4, "A sentence."))
    media.render(media.RenderSpec(segments, work / "out.mp4", frame_size=(1280, 720)))
""")


def test_a_real_render_is_split_into_x264_the_graph_the_passes_and_python(tmp_path):
    script = tmp_path / "render.py"
    script.write_text(_RENDER)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    root, sampler = psutil.Process(child.pid), ThreadSampler()
    while child.poll() is None:
        try:
            sampler.poll([root, *root.children(recursive=True)])
        except psutil.Error:
            pass
        time.sleep(0.005)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert child.returncode == 0 and (tmp_path / "out.mp4").stat().st_size > 0
    total = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    parts = attribute(sampler.seen, total)
    assert parts["x264"] > 0 and parts["filters"] > 0  # the render's process was found by its encoder thread
    assert parts["x264"] > parts["filters"]  # x264's workers are not counted as the graph's
    assert parts["passes"] > 0 and parts["python"] > 0
    assert parts["unseen"] > -0.05  # nothing counted twice: the polled threads never add up to more than the tree
