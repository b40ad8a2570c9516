"""Numbers, dates and units written out as people say them, before the speech engine sees them.

Engines read digits poorly and differently: espeak-ng says "1999" as "nineteen hundred
ninety nine", "$2 billion" as "dollar two billion", "km/h" as "K M slash H", and its
Mandarin voice says "2000年" as 二千年 and "3.5%" as 三点五 "percent". :func:`normalise`
rewrites them for English (:mod:`ytmaker.spoken.english`, num2words) and Chinese
(:mod:`ytmaker.spoken.chinese`, cn2an) and keeps the way back to the written offsets
(:class:`~ytmaker.spoken.offsets.Spoken`), since subtitles show what was written.
Other languages are passed through. A text without digits costs two searches.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ytmaker.spoken.grammar import NUMBER, ascii_digits
from ytmaker.spoken.offsets import Spoken, rewrite

_ANY = re.compile(r"\d|km/h|m/s|mph")


def reader(language: str, text: str) -> Callable[[re.Match[str]], str | None] | None:
    """What says the numbers of ``text`` in ``language`` (None: its numbers are left as written)."""
    base = language.lower().replace("_", "-").split("-")[0]
    if base == "en":
        from ytmaker.spoken.english import English

        return English(text).say
    if base in ("zh", "cmn"):
        from ytmaker.spoken.chinese import Chinese

        return Chinese(text).say
    return None


def normalise(text: str, language: str) -> Spoken:
    """``text`` as it should be said in ``language``, with the way back to its written offsets."""
    written = ascii_digits(text)  # same length: offsets hold
    if not _ANY.search(written):
        return Spoken(text)
    say = reader(language, written)
    if say is None:
        return Spoken(text)
    replacements = []
    for match in NUMBER.finditer(written):
        said = say(match)
        if said is not None:
            replacements.append((match.start(), match.end(), _spaced(written, match, said)))
    return rewrite(written, replacements) if replacements else Spoken(text)


def _spaced(text: str, match: re.Match[str], said: str) -> str:
    """Words put between Latin letters or other numbers keep a space on each side ("in 2019," -> "in twenty nineteen,")."""
    if said and said[0].isascii() and match.start() > 0 and text[match.start() - 1].isalnum():
        said = " " + said
    if said and said[-1].isascii() and match.end() < len(text) and text[match.end()].isalnum():
        said += " "
    return said
