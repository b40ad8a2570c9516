"""A narration cut into runs of one language each, so each run is voiced by a voice that speaks it.

Letters decide (CJK or Latin script); everything else (spaces, punctuation, digits) joins
a neighbouring run: punctuation stays with the words it ends ("China." and "小渔村，"),
a gap between two runs is cut at its last space, else before an opening bracket or
(before Chinese) a digit ("grew 3.5%. 2000年": "grew 3.5%." | "2000年", each number read
in the language of its sentence). A unit, scale or ordinal written after a number belongs to the number
("120km/h" in Chinese is 公里每小时, "$2 billion" 二十亿美元).

Which runs get their own voice:

* Chinese inside English always does: an English voice cannot say it (espeak-ng reads
  each character as "Chinese letter").
* English inside Chinese does when it is a phrase of more than ``EMBEDDED_WORDS`` words
  (or, at the start or end of a text that is mostly English, any English).
  A word or two ("AI", "iPhone 15", "New York") stays in the Chinese run: Chinese speakers
  say them without a change of voice, Edge's and Google's Chinese voices read them in
  English, and espeak-ng's Mandarin voice switches to its English rules for Latin words
  by itself (it does not spell them); a voice change for one word breaks the sentence's melody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ytmaker.spoken.grammar import TIED

#: English words (Latin) inside Chinese that stay with the Chinese voice
EMBEDDED_WORDS = 2
#: a CJK character weighs this many Latin letters when judging a text's main script (ytmaker.language's weight)
CJK_WEIGHT = 3
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_LATIN = r"A-Za-z\u00c0-\u024f"
#: a run of CJK characters, or of Latin words with the spaces, apostrophes and hyphens between them (fewer tokens to loop on)
_LETTERS = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<latin>[{_LATIN}]+(?:[ '’-]+[{_LATIN}]+)*)")
_LATIN_LETTER = re.compile(f"[{_LATIN}]")
_HAS_CJK = re.compile(f"[{_CJK}]")

_KANA, _HANGUL = re.compile(r"[\u3040-\u30ff]"), re.compile(r"[\uac00-\ud7af]")
_OPENING = set("([{（【《「『“‘\"'")
_CJK_LANGUAGES = ("zh", "cmn", "yue", "ja", "ko")

@dataclass(frozen=True)
class Run:
    start: int
    end: int
    language: str
    cjk: bool

def language_runs(text: str, language: str) -> list[Run]:
    """``text`` cut into runs that cover it, each with the language to voice it in (``language``: the project's)."""
    has_cjk, has_latin = bool(_HAS_CJK.search(text)), bool(_LATIN_LETTER.search(text))
    if not (has_cjk and has_latin):  # the common case: one script (or none: digits alone), one run
        return [Run(0, len(text), _language(language, text, cjk=has_cjk) if has_cjk or has_latin else language, has_cjk)]
    tokens = _tokens(text)
    main_cjk = sum(e - s for s, e, cjk in tokens if cjk) * CJK_WEIGHT >= sum(e - s for s, e, cjk in tokens if not cjk)
    spans = _merged(tokens)  # consecutive tokens of one script
    spans = _merged([(s, e, cjk or _embedded(text, spans, k, main_cjk)) for k, (s, e, cjk) in enumerate(spans)])
    runs: list[Run] = []
    start = 0
    for k, (_, last, cjk) in enumerate(spans):
        end = len(text) if k + 1 == len(spans) else _cut(text, last, spans[k + 1][0], spans[k + 1][2])
        runs.append(Run(start, end, _language(language, text[start:end], cjk=cjk), cjk))
        start = end
    return runs

def _embedded(text: str, spans: list[tuple[int, int, bool]], k: int, main_cjk: bool) -> bool:
    """An English span of a word or two stays in the Chinese around it: between two Chinese spans, or at an end
    of a mainly Chinese text (spans alternate scripts, so a neighbour is Chinese)."""
    start, end, _ = spans[k]
    if len(text[start:end].split()) > EMBEDDED_WORDS:
        return False
    return main_cjk or 0 < k < len(spans) - 1

def _merged(spans: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """Neighbouring spans of one script as one."""
    out: list[tuple[int, int, bool]] = []
    for start, end, cjk in spans:
        if out and out[-1][2] == cjk:
            out[-1] = (out[-1][0], end, cjk)
        else:
            out.append((start, end, cjk))
    return out

def _tokens(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, CJK?) of each run of letters; a unit, scale or ordinal after a number is not one."""
    tied = [m.span() for m in TIED.finditer(text)]
    tokens: list[tuple[int, int, bool]] = []
    k = 0
    for m in _LETTERS.finditer(text):
        start = m.start()
        while k < len(tied) and tied[k][1] <= start:
            k += 1
        if k < len(tied) and tied[k][0] <= start < tied[k][1]:  # a unit ("120 km to go"): what follows it may count
            rest = _LATIN_LETTER.search(text, tied[k][1], m.end()) if m["latin"] else None
            if rest is None:
                continue
            start = rest.start()
        tokens.append((start, m.end(), m["cjk"] is not None))
    return tokens

def _cut(text: str, end: int, start: int, before_cjk: bool) -> int:
    """Where the gap ``text[end:start]`` between two runs is cut: at its last space, else before an opening bracket,
    else (before CJK) before its first digit; else it all ends the run before."""
    gap = text[end:start]
    spaces = [k for k, char in enumerate(gap) if char.isspace()]
    if spaces:
        return end + spaces[-1]
    for k, char in enumerate(gap):
        if char in _OPENING or (before_cjk and char.isdigit()):
            return end + k
    return start

def _language(language: str, text: str, *, cjk: bool) -> str:
    """The language a run is voiced in: the project's when the run is in its script, else the script's."""
    base = language.lower().replace("_", "-").split("-")[0]
    if cjk == (base in _CJK_LANGUAGES):
        return language
    if not cjk:
        return "en"
    return "ja" if _KANA.search(text) else "ko" if _HANGUL.search(text) else "zh"
