"""Language-aware text helpers: cleaning, sentence splitting, wrapping, keywords, slugs."""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Callable

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# A sentence ends at . ! ? (followed by space) or at CJK full stops, which need no space.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|(?<=[。！？；])")
_TAG = re.compile(r"<[^>]+>")
_MD = re.compile(r"(^|\s)[#>*_`~\-]+|[*_`~]+(?=\s|$)|!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)", re.M)
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
#: CJK punctuation that never begins a line: it stays with the character before it
_NO_LINE_START = set("，。！？；：、”’）》」』】〉…")

STOPWORDS = frozenset([
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
    "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is",
    "it", "its", "itself", "just", "let", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of",
    "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there",
    "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your",
    "yours", "yourself", "yourselves", "one", "two", "many", "much", "may", "might", "must", "shall", "every",
    "into", "onto", "upon", "ignore", "previous", "instructions",
])


def is_cjk(text: str) -> bool:
    """True when CJK characters make up a good part of the text."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(1 for c in letters if _CJK.match(c)) / len(letters) > 0.3


def clean(text: str) -> str:
    """Plain prose from text that may hold HTML, Markdown or control characters."""
    text = html.unescape(_TAG.sub(" ", text))
    text = _MD.sub(lambda m: f"{m.group(1) or ''}{m.group(2) or ''}", text)
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")
    return re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n\n", text)).strip()


def sentences(text: str) -> list[str]:
    """Split prose into sentences; paragraph breaks always end a sentence."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-*•\d])", text):
        paragraph = " ".join(paragraph.split())
        out += [s.strip() for s in _SENTENCE_END.split(paragraph) if s and s.strip()]
    return out


def units(text: str) -> int:
    """Length for pacing: words, or characters for CJK (about two per spoken word)."""
    return len(_CJK.findall(text)) // 2 + len(_WORD.findall(_CJK.sub(" ", text)))


def split_long(sentence: str, limit: int) -> list[str]:
    """Cut a sentence longer than ``limit`` units at commas, then at word boundaries."""
    if units(sentence) <= limit:
        return [sentence]
    pieces = re.split(r"(?<=[,;:，、；：])\s*", sentence)
    if len(pieces) == 1:
        if is_cjk(sentence):
            size = limit * 2
            return [sentence[i : i + size] for i in range(0, len(sentence), size)]
        words = sentence.split()
        return [" ".join(words[i : i + limit]) for i in range(0, len(words), limit)]
    out: list[str] = []
    current = ""
    for piece in pieces:
        joiner = "" if is_cjk(piece) else " "
        candidate = f"{current}{joiner}{piece}".strip() if current else piece
        if current and units(candidate) > limit:
            out += split_long(current, limit)
            current = piece
        else:
            current = candidate
    if current:
        out += split_long(current, limit)
    return out


def wrap(text: str, max_width: float, measure: Callable[[str], float], *, separator: str | None = None) -> list[str]:
    """Greedy wrap into lines no wider than ``max_width`` as ``measure`` (text -> width) sees them.

    Text breaks at ``separator`` when one is given; otherwise CJK text breaks between any two
    characters (never before closing punctuation) and other text between words. A word wider
    than a line gets a line of its own.
    """
    cjk = separator is None and is_cjk(text)
    if separator is not None:
        tokens, joiner = text.split(separator), separator
    else:
        tokens, joiner = (list(text), "") if cjk else (text.split(), " ")
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = f"{current}{joiner}{token}" if current else token
        if current and measure(candidate) > max_width and not (cjk and token in _NO_LINE_START):
            lines.append(current)
            current = token.lstrip()
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def keywords(text: str, count: int = 8) -> list[str]:
    """The most frequent meaningful words (two-character runs for CJK text)."""
    if is_cjk(text):
        runs = re.findall(r"[\u4e00-\u9fff]{2,}", text)
        grams = Counter(run[i : i + 2] for run in runs for i in range(len(run) - 1))
        return [g for g, _ in grams.most_common(count)]
    words = [w.lower().strip("'-") for w in _WORD.findall(text)]
    counts = Counter(w for w in words if len(w) > 3 and w not in STOPWORDS)
    return [w for w, _ in counts.most_common(count)]


def truncate(text: str, limit: int) -> str:
    """Shorten at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not is_cjk(cut) and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(",;:-– ") + "…"


def slugify(text: str, limit: int = 60) -> str:
    """A file-name-safe slug: no separators, no shell metacharacters, never empty."""
    normalized = unicodedata.normalize("NFKD", text)
    ascii_text = normalized.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", ascii_text).strip("-").lower()[:limit].strip("-")
    return slug or "video"
