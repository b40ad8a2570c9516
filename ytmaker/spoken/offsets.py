"""A text as it is said, with the way back to the text as written.

Normalisation rewrites spans ("3.5%" -> "three point five percent"); the speech engine
reports word offsets in the rewritten text, but subtitles show the written one. A
:class:`Spoken` keeps, for each piece of the spoken text, where it came from: a copied
piece maps character for character, a rewritten piece maps every character to the
start of the span it replaced (its words are all "said at" that written word).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Spoken:
    text: str  # what the speech engine is given
    #: each piece's start in ``text``, its start in the written text, and whether it was copied (else rewritten);
    #: all empty: ``text`` is the written text
    starts: tuple[int, ...] = ()
    origins: tuple[int, ...] = ()
    copied: tuple[bool, ...] = ()

    def original(self, offset: int) -> int:
        """Where the character at ``offset`` of the spoken text comes from in the written text."""
        if not self.starts:
            return offset
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        return self.origins[i] + (offset - self.starts[i] if self.copied[i] else 0)


def rewrite(text: str, replacements: Iterable[tuple[int, int, str]]) -> Spoken:
    """``text`` with each ``(start, end, said)`` span replaced (spans in order, not overlapping)."""
    parts: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    copied: list[bool] = []

    def piece(written_at: int, said: str, was_copied: bool) -> None:
        starts.append(starts[-1] + len(parts[-1]) if parts else 0)
        origins.append(written_at)
        copied.append(was_copied)
        parts.append(said)

    at = 0
    for start, end, said in replacements:
        if start > at:
            piece(at, text[at:start], True)
        piece(start, said, False)
        at = end
    if not parts:
        return Spoken(text)
    if at < len(text):
        piece(at, text[at:], True)
    return Spoken("".join(parts), tuple(starts), tuple(origins), tuple(copied))
