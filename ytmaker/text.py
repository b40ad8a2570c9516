"""Language-aware text helpers: headings, cleaning, sentence splitting, speech time, wrapping, slugs."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sentencex import get_sentence_boundaries, segment

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# A sentence ends at . ! ? (followed by space) or at CJK full stops, which need no space.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|(?<=[。！？；])")
_TAG = re.compile(r"<[^>]+>")
_MD = re.compile(r"(^|\s)[#>*_`~\-]+|[*_`~]+(?=\s|$)|!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)", re.M)
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)[\s#]*$")
#: a line ending in one of these is prose, not a heading
_PROSE_END = tuple(".!?…,;:，。！？；：、")
#: espeak-ng's pace (calibrated on examples/): 165 words a minute in English, 3.4 characters a second in Chinese
WORDS_PER_S = 165 / 60
CJK_CHARS_PER_S = 3.4
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

#: words that lead into a noun phrase: nothing should separate them from what follows (a subtitle's line end, a phrase's start)
DETERMINERS = frozenset(["a", "an", "the", "this", "these", "those", "his", "her", "its", "their", "our", "my", "your",
                         "every", "each", "no", "some", "any"])


def has_cjk(text: str) -> bool:
    """True when the text holds any CJK character: it must be drawn with a font that has them (Latin text around
    a Chinese name too: a Latin-only font draws boxes)."""
    return _CJK.search(text) is not None


def is_cjk(text: str) -> bool:
    """True when CJK characters make up a good part of the text."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(1 for c in letters if _CJK.match(c)) / len(letters) > 0.3


@lru_cache(maxsize=8)
def clean(text: str) -> str:
    """Plain prose from text that may hold HTML, Markdown or control characters (the last few cached: checking a
    project cleans its text twice)."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = _MD.sub(_markdown_kept, text)
    # Control and format characters out, judged once per distinct character (a per-character pass cost 0.4 ms a row
    # when a batch checks 10,000 rows)
    controls = {ord(c): None for c in set(text) if c not in "\n\t" and unicodedata.category(c)[0] == "C"}
    text = text.translate(controls) if controls else text
    return _SPACES.sub(" ", _BLANK_LINES.sub("\n\n", text)).strip()


_SPACES, _BLANK_LINES = re.compile(r"[ \t]+"), re.compile(r"\n\s*\n+")


def _markdown_kept(match: re.Match[str]) -> str:
    return f"{match.group(1) or ''}{match.group(2) or ''}"


@dataclass(frozen=True)
class Section:
    heading: str | None  # plain text, or None for the text before the first heading
    body: str  # the section's text, not yet cleaned


def _heading(paragraph: str, more_follows: bool) -> tuple[str | None, str]:
    """(heading, rest) when ``paragraph`` opens with a heading, else (None, paragraph)."""
    first, _, rest = paragraph.strip("\n").partition("\n")
    markdown = _MD_HEADING.match(first)
    if markdown:
        return clean(markdown.group(1)) or None, rest
    line = clean(first)
    short = (len(_CJK.findall(line)) <= 30 if is_cjk(line) else len(line) <= 80 and len(line.split()) <= 12)
    if (more_follows and not rest.strip() and line and short and not line.endswith(_PROSE_END)
            and not re.match(r"[-*•>\d]", first.strip()) and any(c.isalpha() for c in line)):
        return line, ""
    return None, paragraph


def sections(text: str) -> list[Section]:
    """The text cut at its headings: Markdown ``#`` lines, and one-line paragraphs that are short,
    end without punctuation and have text after them (``Why solar power got cheap`` + blank line)."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")) if p.strip()]
    out = [Section(None, "")]
    for i, paragraph in enumerate(paragraphs):
        heading, rest = _heading(paragraph, more_follows=i + 1 < len(paragraphs))
        if heading is not None:
            out.append(Section(heading, rest))
        else:
            last = out[-1]
            out[-1] = Section(last.heading, f"{last.body}\n\n{rest}" if last.body else rest)
    return [s for s in out if s.heading or s.body.strip()]


def first_clause(sentence: str) -> str:
    """A sentence up to its first comma, colon or dash, without its final punctuation."""
    return re.split(r"[,;:，；：、—–(（]|\s-\s", sentence, maxsplit=1)[0].strip().rstrip(".!?…。！？ ")


def speech_seconds(text: str) -> float:
    """About how long ``text`` takes to say aloud."""
    return len(_CJK.findall(text)) / CJK_CHARS_PER_S + len(_WORD.findall(_CJK.sub(" ", text))) / WORDS_PER_S


def sentences(text: str, language: str = "en") -> list[str]:
    """Split prose into sentences; paragraph breaks always end a sentence.

    Chinese ends at its full stops; other text where sentencex (Wikimedia's segmenter, made for speech and
    translation) says, by ``language``'s abbreviations: "Dr.", "Feb.", "J.P." and "e.g." end no sentence.
    """
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-*•\d])", text):
        paragraph = " ".join(paragraph.split())
        pieces = _SENTENCE_END.split(paragraph) if is_cjk(paragraph) else segment(language, paragraph)
        out += [s.strip() for s in pieces if s and s.strip()]
    return out


def sentence_ends(text: str, language: str = "en") -> set[int]:
    """Where the sentences of ``text`` (not Chinese) end: the offset after each one's last mark or quote."""
    return {b["start_index"] + len(b["text"].rstrip()) for b in get_sentence_boundaries(language, text)}


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
    # Latin letters lose their accents; CJK characters are kept (a Chinese title would otherwise leave nothing).
    normalized = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    kept = "".join(c if (c.isascii() and c.isalnum()) or is_cjk(c) else "-" for c in normalized)
    slug = re.sub(r"-+", "-", kept).strip("-").lower()[:limit].strip("-")
    return slug or "video"
