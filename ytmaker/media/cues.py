"""Where subtitle cues and their lines break: a segment's words, timed, cut where they read well.

A segment's narration becomes tokens (words; for Chinese the speech engine's
words, else characters, punctuation kept with the token before it), each timed
on the word timings (or by its share of the characters). The cues are chosen
by dynamic programming over the token boundaries: every possible cue costs
what breaks the reading rules, and the cheapest cut of the whole segment wins:

* hard limits: at most ``MAX_LINES`` lines, each within the picture's safe width
  and ``max_chars`` characters (a token wider than that is set alone);
* a cue lasts ``MIN_CUE_S``–``MAX_CUE_S`` and is read at most ``max_rate``
  characters a second (only the narration's own pace can force more);
* a cue ends where the text does: a sentence's end, else punctuation, else
  before a conjunction or preposition, else between words (after an article or a
  preposition, or inside a noun phrase, later; inside a Chinese word last); a
  sentence's last word or two (two characters) never stand alone;
* the lines of a two-line cue are balanced, cut at the best break of the same kinds.

Widths are summed from each token's measured width (once per token), so the
search is a few thousand additions per segment.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from ytmaker.keyphrases import phrase_spans, word_starts
from ytmaker.text import DETERMINERS, is_cjk, sentence_ends

MAX_LINES = 2
MIN_CUE_S = 0.8
MAX_CUE_S = 7.0
#: a cue shorter than this that is not a whole sentence costs more the shorter it is
SHORT_CUE_S = 1.5
#: reading speed: characters a second (spaces and punctuation count), Chinese characters a second
MAX_RATE, MAX_RATE_CJK = 20.0, 9.0
#: characters per line: Latin, Chinese in 16:9, Chinese in 9:16
MAX_CHARS, MAX_CHARS_CJK, MAX_CHARS_CJK_VERTICAL = 42, 16, 14

_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_CJK_CHAR = re.compile(f"[{_CJK_CHARS}]")
#: a Latin text's tokens: a word, or one CJK character with the punctuation after it
_LATIN_TOKEN = re.compile(f"[{_CJK_CHARS}][，。！？；：、”’）》」』】〉…,.!?;:)]*|[^\\s{_CJK_CHARS}]+")
#: a digit after a number's decimal point or separator ("3.5", "1,000", "9:30"): the number goes on, no cut here
_IN_NUMBER = re.compile(r"(?<=\d[.,:])\d")
_SENTENCE_END = re.compile(r"[.!?…。！？；][\"'”’)）」』]*$")
_CLAUSE_END = re.compile(r"[,;:—–，、：；）)]$")
PUNCT = set("，。！？；：、”’）》」』】〉…,.!?;:\"')—–")
#: a line or cue reads best when it starts with one of these (the break goes before it)
_LEADS = frozenset([
    "and", "but", "or", "nor", "so", "yet", "because", "although", "though", "while", "whereas", "if", "unless",
    "until", "when", "where", "which", "who", "whom", "whose", "that", "than", "as", "since", "after", "before",
    "for", "from", "to", "in", "on", "at", "by", "with", "without", "into", "onto", "over", "under", "about",
    "between", "through", "during", "against", "like"
])
# break costs after a token: sentence end, clause punctuation, before a leading word, between words, inside a word,
# inside a noun phrase ("pour-over | kettles") or after a word that leads into what follows ("the | beans", "of | Mocha"),
# inside a name ("Good | Roads Movement")
_BREAK = (0.0, 1.0, 2.5, 6.0, 14.0, 11.0, 16.0)


@dataclass(frozen=True)
class Token:
    text: str
    offset: int  # where it starts in the segment's text
    time: float  # seconds into the narration when it is heard
    glue: str  # what joins it to the token before on a line: " " or ""
    brk: int  # how well a cue or line may end after it: an index into _BREAK


@dataclass(frozen=True)
class Piece:
    """A cue as cut: its tokens [first, last), its lines as token ranges."""

    first: int
    last: int
    lines: tuple[tuple[int, int], ...]


def tokenize(text: str, times: Callable[[int], float], starts: set[int] | None = None) -> list[Token]:
    """The segment's tokens; ``times(offset)`` says when the character at ``offset`` is heard.

    ``starts`` are word starts the speech engine reported (for Chinese: its words); None: characters.
    """
    cjk = is_cjk(text)
    spans: list[tuple[int, int]] = []
    if not cjk:  # words; a Chinese name or clause inside is cut between its words (else characters), or it could not wrap
        for m in _LATIN_TOKEN.finditer(text):
            a, b = m.start(), m.end()
            if (spans and starts is not None and spans[-1][1] == a and a not in starts and _CJK_CHAR.match(text[a])
                    and _CJK_CHAR.match(text[a - 1])):
                spans[-1] = (spans[-1][0], b)  # the same word, as the speech engine heard it
            else:
                spans.append((a, b))
    else:
        begin = None
        for i, char in enumerate(text):
            if char.isspace():
                if begin is not None:
                    spans.append((begin, i))
                begin = None
                continue
            attach = char in PUNCT or char in "%‰°℃" or (char.isascii() and char.isalnum() and i > 0 and text[i - 1].isascii()
                                        and text[i - 1].isalnum()) or _IN_NUMBER.match(text, i) is not None
            new = begin is None or (not attach and (starts is None or i in starts or text[i - 1] in PUNCT))
            if new and begin is not None:
                spans.append((begin, i))
            if new:
                begin = i
        if begin is not None:
            spans.append((begin, len(text)))
    phrases = phrase_spans(text)
    words = word_starts(text) if cjk else set()  # a reader's words: the engine's are not always (这|条 for 这条)
    ends = set() if cjk else sentence_ends(text)  # not after "Feb." or "J.P."
    tokens = []
    for k, (a, b) in enumerate(spans):
        word = text[a:b]
        following = text[spans[k + 1][0]:spans[k + 1][1]] if k + 1 < len(spans) else ""
        if (_SENTENCE_END.search(word) and (cjk or b in ends or k + 1 == len(spans))) \
                or "\n" in text[b:spans[k + 1][0] if k + 1 < len(spans) else b]:
            brk = 0
        elif word.endswith("、"):  # inside a list ("丝绸、茶叶和瓷器"): a comma's break, but later
            brk = 2
        elif _CLAUSE_END.search(word):
            brk = 1
        elif not cjk and following.lower().strip("\"'(") in _LEADS and not (word.lower() == "such" and following == "as"):
            brk = 2  # ("such | as" is one phrase: such leads into what follows, below)
        elif cjk and following and text[b - 1] not in PUNCT and following[0] not in PUNCT:
            brk = 3 if b in words else 4  # between two of a reader's words, else inside one
        elif following and _CJK_CHAR.match(text[b - 1]) and _CJK_CHAR.match(following[0]):
            brk = 4  # a Chinese name inside an English text: any two characters may be one word
        elif k + 1 < len(spans) and word.lower() not in DETERMINERS and word[:1].isupper() and following[:1].isupper() \
                and any(p <= a and spans[k + 1][1] <= q for p, q in phrases):
            brk = 6  # inside a name: "Good | Roads Movement"
        elif k + 1 < len(spans) and (word.lower() in _LEADS or word.lower() in DETERMINERS or word.lower() == "such"
                                     or any(p <= a and spans[k + 1][1] <= q for p, q in phrases)):
            brk = 5
        else:
            brk = 3
        glue = " " if a > 0 and text[a - 1].isspace() else ""
        tokens.append(Token(word, a, times(a), glue if k else "", brk))
    return tokens


def word_clock(words: list[tuple[int, float]] | None, text: str, narration_s: float) -> Callable[[int], float] | None:
    """When the character at an offset is heard, from the word timings; None when they do not fit the text (two words at once)."""
    if not words:
        return None
    offsets = [o for o, _ in words]
    seconds = [t for _, t in words]
    if (offsets != sorted(set(offsets)) or seconds != sorted(set(seconds)) or offsets[-1] >= len(text)
            or seconds[0] < 0 or seconds[-1] > narration_s):
        return None
    return lambda offset: seconds[max(0, bisect.bisect_right(offsets, offset) - 1)]


def length_clock(text: str, narration_s: float) -> Callable[[int], float]:
    """When the character at an offset is heard if time goes by characters (no word timings)."""
    weights = [0 if c.isspace() else 1 for c in text]
    total = max(1, sum(weights))
    before = [0]
    for w in weights:
        before.append(before[-1] + w)
    return lambda offset: narration_s * before[offset] / total


@dataclass(frozen=True)
class Limits:
    max_width: float  # pixels
    max_chars: int
    max_rate: float
    cjk: bool


def limits_for(text: str, width: float, vertical: bool) -> Limits:
    cjk = is_cjk(text)
    chars = (MAX_CHARS_CJK_VERTICAL if vertical else MAX_CHARS_CJK) if cjk else MAX_CHARS
    return Limits(width, chars, MAX_RATE_CJK if cjk else MAX_RATE, cjk)


def line_text(tokens: list[Token], first: int, last: int) -> str:
    return "".join((t.glue if k > first else "") + t.text for k, t in enumerate(tokens[first:last], first))


def reading_chars(text: str, cjk: bool) -> int:
    """Characters a reader reads: all of them, or for Chinese those that are not spaces."""
    return len("".join(text.split())) if cjk else len(text)


def cut(tokens: list[Token], widths: list[float], space: float, end_s: float, limits: Limits) -> list[Piece]:
    """The cheapest cut of ``tokens`` into cues (``widths`` their drawn widths, ``space`` a space's), the last ending at ``end_s``."""
    n = len(tokens)
    if not n:
        return []
    width_at, chars_at = [0.0], [0]  # prefix sums: a line's width and characters are two subtractions
    for k, token in enumerate(tokens):
        glue = bool(token.glue) and k > 0
        width_at.append(width_at[-1] + widths[k] + (space if glue else 0.0))
        chars_at.append(chars_at[-1] + len(token.text) + (len(token.glue) if glue else 0))

    def span(first: int, last: int) -> tuple[float, int]:
        glue = tokens[first].glue
        return (width_at[last] - width_at[first] - (space if glue and first else 0.0),
                chars_at[last] - chars_at[first] - (len(glue) if first else 0))

    def fits(first: int, last: int) -> bool:
        width, count = span(first, last)
        return width <= limits.max_width and count <= limits.max_chars

    def layout(first: int, last: int) -> tuple[float, tuple[tuple[int, int], ...]] | None:
        if fits(first, last):
            return 0.0, ((first, last),)
        best: tuple[float, tuple[tuple[int, int], ...]] | None = None
        for k in range(first + 1, last):
            if not (fits(first, k) and fits(k, last)):
                continue
            top, bottom = span(first, k)[0], span(k, last)[0]
            cost = 3 * abs(top - bottom) / limits.max_width + 0.75 * _BREAK[tokens[k - 1].brk] + (0.3 if top > bottom else 0)
            if limits.cjk and min(top, bottom) < 0.4 * max(top, bottom):  # "而葡萄、 / 核桃和玻璃则从西方传入中原。":
                cost += 2.0  # Chinese breaks between any two words, so a far better balanced cut is always near
            if best is None or cost < best[0]:
                best = (cost, ((first, k), (k, last)))
        if best is None and last - first == 1:
            return 20.0, ((first, last),)  # one token wider than a line: alone
        return best

    def start(index: int) -> float:
        return end_s if index >= n else tokens[index].time

    def sentence_start(index: int) -> bool:
        return index == 0 or tokens[index - 1].brk == 0

    def cost(first: int, last: int) -> tuple[float, tuple[tuple[int, int], ...]] | None:
        lines = layout(first, last)
        if lines is None:
            return None
        seconds = start(last) - start(first)
        text = line_text(tokens, first, last)
        total = 1.0 + lines[0] + (0.0 if last == n else _BREAK[tokens[last - 1].brk])
        total += 4.0 * sum(1 for t in tokens[first:last - 1] if t.brk == 0)  # a sentence end inside the cue
        if seconds < MIN_CUE_S:
            total += 30 + 60 * (MIN_CUE_S - seconds)
        if seconds > MAX_CUE_S:
            total += 30 + 20 * (seconds - MAX_CUE_S)
        rate = reading_chars(text, limits.cjk) / max(seconds, 0.01)
        if rate > limits.max_rate:
            total += 20 * (rate / limits.max_rate - 1)
        whole = sentence_start(first) and (last == n or tokens[last - 1].brk == 0)
        if seconds < SHORT_CUE_S and not whole:  # a fragment flashed by ("而葡萄、" for 0.8 s): joined where it can be
            total += 6 * (SHORT_CUE_S - seconds)
        small = reading_chars(text, limits.cjk) <= 2 if limits.cjk else last - first <= 2
        if small and not sentence_start(first) and (last == n or tokens[last - 1].brk == 0):
            total += 40  # an orphan: a sentence's last word or two on their own
        if small and sentence_start(first) and last < n and tokens[last - 1].brk != 0:
            total += 15  # a sentence's first word or two on their own
        total += 0.15 * (seconds / 3.5) ** 2  # evens out the cues
        return total, lines[1]

    best: list[tuple[float, int, tuple[tuple[int, int], ...]] | None] = [None] * (n + 1)
    best[0] = (0.0, 0, ())
    for last in range(1, n + 1):
        for first in range(last - 1, -1, -1):
            width, count = span(first, last)
            if first < last - 1 and (count > MAX_LINES * limits.max_chars or width > MAX_LINES * limits.max_width):
                break  # starting earlier only makes it longer
            previous, found = best[first], cost(first, last)
            if previous is None or found is None:
                continue
            current = best[last]
            if current is None or previous[0] + found[0] < current[0]:
                best[last] = (previous[0] + found[0], first, found[1])
    pieces = []
    at = n
    while at > 0:
        entry = best[at]
        assert entry is not None
        pieces.append(Piece(entry[1], at, entry[2]))
        at = entry[1]
    return pieces[::-1]
