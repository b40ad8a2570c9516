"""Running FFmpeg: one process group, its own deadline, live progress, errors that carry the command.

Dramatiq's TimeLimit cannot interrupt a blocking wait on a subprocess (#211),
so the runner polls with a short select timeout: its own deadline, a
cancellation check and Dramatiq's asynchronous exceptions all land within
half a second, and the ``finally`` kills the whole process group, so no
FFmpeg outlives its stage; if the worker itself is killed, the kernel kills
FFmpeg with it (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import lru_cache

from ytmaker.errors import Cancelled, MediaError, StageTimeout

#: how much of FFmpeg's log ``run_ffmpeg`` returns
LOG_TAIL = 65536


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The system's ``ffmpeg`` when present, else the binary shipped by the imageio-ffmpeg wheel."""
    override = os.environ.get("IMAGEIO_FFMPEG_EXE")
    if override:
        return override
    system = shutil.which("ffmpeg")
    if system:
        return system
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise MediaError("FFmpeg not found: install ffmpeg or `pip install imageio-ffmpeg`") from exc


def parse_progress(lines: list[str]) -> dict[str, str]:
    """Fold ``key=value`` lines of ``-progress`` output into a dict (last value wins)."""
    out: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if sep:
            out[key] = value
    return out


def run_ffmpeg(
    args: list[str],
    *,
    timeout_s: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> str:
    """Run ``ffmpeg <args>``; ``on_progress`` gets the output time in seconds as it advances.

    Returns FFmpeg's log (stderr, its last ``LOG_TAIL`` bytes), where analysis filters print their results.
    """
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-progress", "pipe:1", "-nostats", *args]
    deadline = time.monotonic() + timeout_s if timeout_s else None
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True,
                                   preexec_fn=_die_with_parent if _PRCTL is not None else None)
        try:
            _follow(process, deadline, on_progress, should_cancel)
        finally:
            if process.poll() is None:
                _kill_group(process)
        stderr.seek(0, os.SEEK_END)
        stderr.seek(max(0, stderr.tell() - LOG_TAIL))
        log = stderr.read().decode("utf-8", "replace")
        if process.returncode != 0:
            tail = log[-4000:]
            last = tail.strip().splitlines()[-1] if tail.strip() else "no output"
            raise MediaError(f"FFmpeg failed (exit {process.returncode}): {last}", command=command, stderr=tail)
        return log


def _follow(process, deadline, on_progress, should_cancel) -> None:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffer = b""
    try:
        while True:
            if deadline and time.monotonic() > deadline:
                raise StageTimeout("FFmpeg ran past the stage's time limit and was stopped")
            if should_cancel and should_cancel():
                raise Cancelled("the project was cancelled")
            if not selector.select(timeout=0.5):
                if process.poll() is not None:
                    return
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                process.wait()
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            if on_progress:
                fields = parse_progress([line.decode("ascii", "replace") for line in lines])
                micros = fields.get("out_time_us") or fields.get("out_time_ms")
                if micros and micros.lstrip("-").isdigit() and int(micros) >= 0:
                    on_progress(int(micros) / 1e6)
    finally:
        selector.close()
        process.stdout.close()


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


#: loaded here, not in the child: between fork and exec only the call itself may run
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A SIGKILLed worker runs no ``finally``: the kernel then kills its FFmpeg (Linux), even one
    # blocked on input that would never notice its progress pipe closing.
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
