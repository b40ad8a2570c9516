"""Where a render's CPU time goes, by thread, measured inside the run.

Cases run minutes apart are not comparable on shared cores: the same encode's CPU
time drifted 15-25 % between minutes here, more than the render's overhead that the
issue's ratio compares. Inside one run the drift is shared: the render's x264
threads (the encoder thread and the workers it starts) are x264 encoding the
render's own frames, the same-content floor, and every other thread is the rest of
the render (the filter graph, AAC, muxing), beside the two passes before it and the
Python process. The ratio of the two, from one run, does not depend on the minute.

FFmpeg names its threads (``fc0`` the filter graph, ``enc0:0:libx264``, ``enc0:1:aac``,
``mux0:mp4``); x264's workers are started by the filter graph's thread when it hands
over the first frame and inherit its name, so with one filter thread
(``-filter_complex_threads 1``) the first ``fc0`` thread is the graph and the
others are x264's. Threads are polled (``/proc``); a thread's CPU after its last
poll is lost (at most one period per thread), and the total is taken from the
process tree's ``RUSAGE_CHILDREN`` as before, so the loss lands in ``unseen``.
"""

from __future__ import annotations

from pathlib import Path

import psutil

ENCODER = "enc0:0:libx264"


class ThreadSampler:
    """Each thread's CPU seconds and name as last seen, for every process of a tree."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], tuple[str, str, float]] = {}  # (pid, tid) -> (process, thread, cpu s)

    def poll(self, processes: list[psutil.Process]) -> None:
        for process in processes:
            try:
                name = process.name()
                for thread in process.threads():
                    key = (process.pid, thread.id)
                    # a thread that ends between the two reads has no name left: it keeps the one it had
                    comm = _thread_name(*key) or self.seen.get(key, (name, name, 0.0))[1]
                    cpu = _runtime(*key)
                    self.seen[key] = (name, comm, thread.user_time + thread.system_time if cpu is None else cpu)
            except psutil.Error:
                continue


def _thread_name(pid: int, tid: int) -> str:
    try:
        return Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
    except OSError:
        return ""


def _runtime(pid: int, tid: int) -> float | None:
    """The thread's CPU seconds to the microsecond from the scheduler (``/proc/.../sched``), where the kernel has it.

    psutil's thread times are in clock ticks (10 ms), user and system each cut down: over the forty threads
    of a render that lost 0.3 CPU-s, most of it from small threads, which the ratio then missed.
    """
    try:
        text = Path(f"/proc/{pid}/task/{tid}/sched").read_text()
    except OSError:
        return None
    start = text.find("se.sum_exec_runtime")
    return float(text[text.index(":", start) + 1:text.index("\n", start)]) / 1000 if start >= 0 else None


def attribute(seen: dict[tuple[int, int], tuple[str, str, float]], total_cpu_s: float) -> dict[str, float]:
    """CPU seconds by part: ``x264``, ``filters``, ``aac``, ``render other``, ``passes``, ``python``, ``unseen``."""
    render_pid = next((pid for (pid, _), (_, comm, _) in seen.items() if comm == ENCODER), None)
    graph = [tid for (pid, tid), (_, comm, _) in seen.items() if pid == render_pid and comm == "fc0"]
    filter_tid = min(graph, default=None)
    parts = dict.fromkeys(["x264", "filters", "aac", "render other", "passes", "python"], 0.0)
    for (pid, tid), (process, comm, cpu) in seen.items():
        if pid == render_pid:
            part = ("filters" if tid == filter_tid else "x264" if comm in ("fc0", ENCODER)
                    else "aac" if comm.startswith("enc0:1") else "render other")
        else:
            part = "passes" if "ffmpeg" in process or process == "setpriv" else "python"  # setpriv execs FFmpeg
        parts[part] += cpu
    parts["unseen"] = total_cpu_s - sum(parts.values())
    return {part: round(cpu, 2) for part, cpu in parts.items()}
