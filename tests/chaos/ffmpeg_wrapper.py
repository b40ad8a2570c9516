"""FFmpeg as the chaos tests want it (``IMAGEIO_FFMPEG_EXE`` points here), replaced by the real one with exec.

``CHAOS_FFMPEG=slow``: inputs are read at ``CHAOS_FFMPEG_RATE`` times their native rate
(``-readrate``), so a render takes as long as the video or longer, and a test can act while FFmpeg runs.
``CHAOS_FFMPEG=hang-once``: the first render of the fleet never ends (an
endless silent source, read in real time); later ones are normal.
Probes and other runs (no ``-progress``) are left alone.
"""

import os
import shutil
import sys

real = os.environ.get("CHAOS_REAL_FFMPEG") or shutil.which("ffmpeg")
args = sys.argv[1:]
mode = os.environ.get("CHAOS_FFMPEG", "")
if "-progress" in args and mode == "slow":
    rate = os.environ.get("CHAOS_FFMPEG_RATE", "1")  # 0.25: four times slower than real time
    args = [a for arg in args for a in (["-readrate", rate, arg] if arg == "-i" else [arg])]
elif "-progress" in args and mode == "hang-once":
    try:
        os.close(os.open(os.path.join(os.environ["CHAOS_DIR"], "ffmpeg-hang"), os.O_CREAT | os.O_EXCL))
        args = ["-hide_banner", "-nostdin", "-y", "-progress", "pipe:1", "-nostats",
                "-re", "-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"]
    except FileExistsError:
        pass
os.execv(real, [real, *args])
