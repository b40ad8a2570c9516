"""Running FFmpeg: one process group, its own deadline, live progress, errors that carry the command.

Every FFmpeg process ytmaker starts is started here: ``run_ffmpeg`` for work
(renders, passes, a frame grab) and ``query_ffmpeg`` for short questions whose
answer is FFmpeg's output (``-i FILE`` for probing, ``-version``).

Dramatiq's TimeLimit cannot interrupt a blocking wait on a subprocess (#211),
so both runners poll with a short timeout: their own deadline, a
cancellation check and Dramatiq's asynchronous exceptions all land within
half a second, and the ``finally`` kills the whole process group, so no
FFmpeg outlives its stage; if the worker itself is killed, the kernel kills
FFmpeg with it (``PR_SET_PDEATHSIG``). A failure raises MediaError carrying
the command and FFmpeg's stderr.
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
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

from ytmaker.errors import Cancelled, MediaError, StageTimeout

#: the longest filter graph passed as an argument: Linux refuses any one argument over 128 KiB (MAX_ARG_STRLEN),
#: which a 10-minute video's word highlights pass (115 kB for 100 segments); a longer one is read from a file
MAX_GRAPH_BYTES = 100_000
#: how much of FFmpeg's log ``run_ffmpeg`` returns
LOG_TAIL = 65536
#: how much of a short command's output ``query_ffmpeg`` returns (all of any sane answer)
QUERY_LIMIT = 16 * 1024 * 1024


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
        import imageio_ffmpeg  # type: ignore[import-untyped]

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
    on_fields: Callable[[dict[str, str]], None] | None = None,
) -> str:
    """Run ``ffmpeg <args>``; ``on_progress`` gets the output time in seconds as it advances, ``on_fields`` each
    ``-progress`` report whole (``frame``: the video frames written so far).

    Returns FFmpeg's log (stderr, its last ``LOG_TAIL`` bytes), where analysis filters print their results.
    """
    deadline = time.monotonic() + timeout_s if timeout_s else None
    with tempfile.TemporaryFile() as stderr, tempfile.TemporaryDirectory(prefix="ytmaker-ffmpeg-") as spill:
        command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-progress", "pipe:1", "-nostats", *spill_graphs(args, spill)]
        process = _start(command, subprocess.PIPE, stderr)
        try:
            _follow(process, deadline, on_progress, should_cancel, on_fields)
        finally:
            if process.poll() is None:
                _kill_group(process)
        log = _tail(stderr)
        if process.returncode != 0:
            raise _failure(command, process.returncode, log)
        return log


def spill_graphs(args: list[str], directory: str) -> list[str]:
    """``args`` with each ``-filter_complex`` graph over ``MAX_GRAPH_BYTES`` read from a file in ``directory`` instead."""
    out = list(args)
    for i in range(len(out) - 1):
        if out[i] == "-filter_complex" and len(out[i + 1].encode()) > MAX_GRAPH_BYTES:
            path = os.path.join(directory, f"graph{i}.txt")
            with open(path, "w", encoding="utf-8") as file:
                file.write(out[i + 1])
            out[i], out[i + 1] = "-/filter_complex", path  # FFmpeg 7+: the option's value from a file
    return out


@dataclass(frozen=True)
class Answer:
    """What a short FFmpeg command printed, and how it exited."""

    returncode: int
    stdout: str
    stderr: str


def query_ffmpeg(args: list[str], *, timeout_s: float = 60.0, check: bool = True, exe: str | None = None) -> Answer:
    """Run a short ``ffmpeg <args>`` (``-i FILE``, ``-version``) to its end and return what it printed.

    ``check=False`` returns a failed exit too (``ffmpeg -i FILE`` always exits 1: it has no output);
    a command that cannot start, fails when checked or outlives ``timeout_s`` raises.
    """
    command = [exe or ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    deadline = time.monotonic() + timeout_s
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = _start(command, stdout, stderr)
        try:
            while process.poll() is None:  # short waits, so Dramatiq's asynchronous exceptions land
                if time.monotonic() > deadline:
                    raise StageTimeout(f"FFmpeg ran past its {timeout_s:g} s limit and was stopped ({' '.join(args)[:200]})")
                try:
                    process.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            if process.poll() is None:
                _kill_group(process)
        # Whole answers, not a tail: a description can run long (chapters, metadata) and starts with the duration.
        answer = Answer(process.returncode, _tail(stdout, QUERY_LIMIT), _tail(stderr, QUERY_LIMIT))
    if check and answer.returncode != 0:
        raise _failure(command, answer.returncode, answer.stderr)
    return answer


def _start(command: list[str], stdout: int | IO[bytes], stderr: IO[bytes]) -> subprocess.Popen:
    """Start FFmpeg in its own process group, to die with the worker (the one place processes are made)."""
    # The death signal is set by setpriv (util-linux), which then execs FFmpeg: a preexec_fn makes Python fork the
    # whole worker (100+ MB) under the GIL, where without one it uses vfork: 8 threads starting FFmpeg 8 times
    # each took 1.0-1.3 s with preexec_fn, 0.5 s without (bench/orchestration, Pexels fan-out).
    setpriv = _setpriv() if shutil.which(command[0]) else None  # a missing FFmpeg: Popen's own error, said as such
    wrapped, preexec = ([setpriv, "--pdeathsig", "KILL", "--", *command], None) if setpriv else (
        command, _die_with_parent if _PRCTL is not None else None)
    try:
        return subprocess.Popen(wrapped, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True,
                                preexec_fn=preexec)
    except OSError as exc:
        raise MediaError(f"cannot run FFmpeg ({command[0]}): {exc}", command=command) from exc


def _tail(file: IO[bytes], limit: int = LOG_TAIL) -> str:
    """The last ``limit`` bytes written to ``file``, as text."""
    file.seek(0, os.SEEK_END)
    file.seek(max(0, file.tell() - limit))
    return file.read().decode("utf-8", "replace")


def _failure(command: list[str], returncode: int, log: str) -> MediaError:
    tail = log[-4000:]
    last = tail.strip().splitlines()[-1] if tail.strip() else "no output"
    return MediaError(f"FFmpeg failed (exit {returncode}): {last}", command=command, stderr=tail)


def _follow(process, deadline, on_progress, should_cancel, on_fields=None) -> None:
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
            if on_progress or on_fields:
                fields = parse_progress([line.decode("ascii", "replace") for line in lines])
                if on_fields and fields:
                    on_fields(fields)
                micros = fields.get("out_time_us") or fields.get("out_time_ms")
                if on_progress and micros and micros.lstrip("-").isdigit() and int(micros) >= 0:
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


@lru_cache(maxsize=1)
def _setpriv() -> str | None:
    """util-linux's setpriv when it knows ``--pdeathsig`` (2.33 and later), on Linux."""
    exe = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    if exe is None:
        return None
    try:
        shown = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return exe if "--pdeathsig" in shown else None


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
