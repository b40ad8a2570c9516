"""The pace of a video, shared by the renderer and the script writers that estimate its length.

Kept apart from ``media.render`` so that a writer can count a video's seconds without importing
the renderer (and Pillow with it) into a worker that only writes scripts.
"""

#: silence after each segment's narration, and after the last one
PAUSE_S = 0.4
