"""An FFmpeg whose worker is SIGKILLed dies with it, even one blocked on input that writes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")

WORKER = """
import sys, threading
from ytmaker.media.ffmpeg import run_ffmpeg
# In a thread, as in a Dramatiq worker: the parent-death signal follows the thread that started FFmpeg.
threading.Thread(target=run_ffmpeg, args=(["-f", "s16le", "-i", sys.argv[1], "-f", "null", "-"],)).start()
"""


def ffmpeg_reading(fifo: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if str(fifo).encode() in cmdline and b"ffmpeg" in cmdline.split(b"\0")[0] and state != "Z":
                found.append(int(entry.name))
    return found


def test_a_sigkilled_worker_takes_its_silent_ffmpeg_with_it(tmp_path):
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)  # FFmpeg blocks opening it: no progress output, so no broken pipe to notice
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(fifo)])
    try:
        deadline = time.monotonic() + 30
        while not ffmpeg_reading(fifo):
            assert time.monotonic() < deadline, "FFmpeg never started"
            time.sleep(0.05)

        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        deadline = time.monotonic() + 3
        while ffmpeg_reading(fifo) and time.monotonic() < deadline:
            time.sleep(0.05)

        assert ffmpeg_reading(fifo) == [], "FFmpeg outlived its SIGKILLed worker"
    finally:
        worker.kill()
        for pid in ffmpeg_reading(fifo):
            os.kill(pid, signal.SIGKILL)
