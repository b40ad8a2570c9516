"""The pace of a video, shared by the renderer and the script writers that estimate its length.

Kept apart from ``media.render`` so that a writer can count a video's seconds without importing
the renderer (and Pillow with it) into a worker that only writes scripts.
"""

#: silence after each segment's narration, and after the last one (the video's tail)
PAUSE_S = 0.4
TAIL_S = 0.8
#: espeak-ng's pace against ``text.speech_seconds``'s estimate: up to this much slower (2.5 % on a Chinese text)
SPEECH_MARGIN = 1.05


def video_seconds(speech_s: list[float]) -> float:
    """How long a video of these narrations lasts: each followed by a pause, the last by the tail."""
    return sum(speech_s) + PAUSE_S * (len(speech_s) - 1) + TAIL_S if speech_s else 0.0
