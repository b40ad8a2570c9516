"""Which characters a font file has glyphs for, read from its OpenType ``cmap`` table.

Pillow draws a missing character as the font's ``.notdef`` box and has no way to ask
whether a glyph exists, so the character map is read here: the first face of a TrueType,
OpenType or collection file (the face Pillow loads by default), its Unicode subtable
of format 12 (all planes) or 4 (BMP). A few dozen lines of ``struct`` instead of
fontTools, and a lookup is a binary search.
"""

from __future__ import annotations

import bisect
import struct
from functools import lru_cache
from pathlib import Path

#: (platform, encoding) of Unicode subtables, the full-repertoire ones first
_UNICODE_SUBTABLES = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 1), (0, 0))


class CharacterMap:
    """The code points a font maps to a real glyph, as sorted inclusive ranges."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self._starts = [start for start, _ in ranges]
        self._ends = [end for _, end in ranges]

    def __contains__(self, char: str) -> bool:
        code = ord(char)
        i = bisect.bisect_right(self._starts, code) - 1
        return i >= 0 and code <= self._ends[i]


@lru_cache(maxsize=8)
def character_map(path: str) -> CharacterMap:
    """The character map of the font file at ``path`` (its first face); ValueError when it has no Unicode cmap."""
    data = Path(path).read_bytes()
    face = struct.unpack_from(">I", data, 12)[0] if data[:4] == b"ttcf" else 0
    (num_tables,) = struct.unpack_from(">H", data, face + 4)
    tables = {data[face + 12 + 16 * i: face + 16 + 16 * i]: struct.unpack_from(">I", data, face + 20 + 16 * i)[0]
              for i in range(num_tables)}
    if b"cmap" not in tables:
        raise ValueError(f"{path} has no cmap table")
    cmap = tables[b"cmap"]
    (count,) = struct.unpack_from(">H", data, cmap + 2)
    subtables: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        subtables.setdefault((platform, encoding), cmap + offset)
    for key in _UNICODE_SUBTABLES:
        if key in subtables:
            at = subtables[key]
            (fmt,) = struct.unpack_from(">H", data, at)
            if fmt == 12:
                return CharacterMap(_format12(data, at))
            if fmt == 4:
                return CharacterMap(_format4(data, at))
    raise ValueError(f"{path} has no Unicode cmap of format 4 or 12")


def _format12(data: bytes, at: int) -> list[tuple[int, int]]:
    (groups,) = struct.unpack_from(">I", data, at + 12)
    ranges = []
    for i in range(groups):
        start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * i)
        if glyph == 0:  # the group's first code point maps to .notdef; the rest map to real glyphs
            start += 1
        if start <= end:
            ranges.append((start, end))
    return ranges


def _format4(data: bytes, at: int) -> list[tuple[int, int]]:
    (seg_x2,) = struct.unpack_from(">H", data, at + 6)
    segments = seg_x2 // 2
    ends = struct.unpack_from(f">{segments}H", data, at + 14)
    starts = struct.unpack_from(f">{segments}H", data, at + 16 + seg_x2)
    deltas = struct.unpack_from(f">{segments}H", data, at + 16 + 2 * seg_x2)
    range_at = at + 16 + 3 * seg_x2
    range_offsets = struct.unpack_from(f">{segments}H", data, range_at)
    codes = []
    for i, (start, end) in enumerate(zip(starts, ends)):
        for code in range(start, min(end, 0xFFFE) + 1):
            if range_offsets[i] == 0:
                glyph = (code + deltas[i]) & 0xFFFF
            else:  # idRangeOffset is relative to its own slot in the array
                slot = range_at + 2 * i + range_offsets[i] + 2 * (code - start)
                glyph = struct.unpack_from(">H", data, slot)[0] if slot + 2 <= len(data) else 0
                glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
            if glyph:
                codes.append(code)
    return _as_ranges(codes)


def _as_ranges(codes: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges
