"""What the speech engine is given: numbers written out as people say them (:mod:`.numbers`), a narration cut into
runs of one language (:mod:`.runs`), and the way back to the written offsets the subtitles show (:mod:`.offsets`)."""

from ytmaker.spoken.numbers import normalise
from ytmaker.spoken.offsets import Spoken
from ytmaker.spoken.runs import Run, language_runs

__all__ = ["Run", "Spoken", "language_runs", "normalise"]
