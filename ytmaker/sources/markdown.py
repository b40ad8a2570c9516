"""Markdown as ytmaker text: what a person would read aloud, not what a browser would draw.

Headings become ``# `` lines (any level: ytmaker cuts segments at each), paragraphs and blockquotes stay
paragraphs, list items become sentences, link text stays and URLs go. Code (fenced and indented), tables,
images, raw HTML, HTML comments and front matter are dropped: read aloud they are noise (the bug behind
this module: a README's fenced ASCII diagram was narrated box-drawing character by box-drawing character).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ytmaker.errors import InvalidInput
from ytmaker.sources import Source
from ytmaker.text import is_cjk

# CommonMark plus GFM tables (so that they can be dropped whole, not read cell by cell) and ~~strikethrough~~
# (so that its tildes are not read)
_PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
#: YAML (--- … --- or ...) or TOML (+++ … +++) front matter at the very start
_FRONT_MATTER = re.compile(r"\A\ufeff?(---|\+\+\+)[ \t]*\r?\n(.*?\r?\n)??(?:\1|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_FRONT_TITLE = re.compile(r"^title[ \t]*[:=][ \t]*(.+?)[ \t]*$", re.M)
_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>]*[^\s<>.,;:!?)\]'\"]", re.I)
_TASK_BOX = re.compile(r"^\[[ xX]\]\s+")
# CJK characters and CJK punctuation: a line break between two of them is no space (Chinese has none)
_CJK_CHAR = "\u2e80-\u2fff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_CJK_ONE = re.compile(f"[{_CJK_CHAR}]")
_BREAK = re.compile(r"[ \t]*\n\s*")
#: a sentence already ends here (closing quotes and brackets may follow)
_FINAL = re.compile(r"[.!?…:;。！？：；][\"'’”)\]）」』]*$")
_LIST_OPEN, _LIST_CLOSE = {"bullet_list_open", "ordered_list_open"}, {"bullet_list_close", "ordered_list_close"}


def from_markdown(text: str) -> Source:
    """The narratable text of a Markdown document, its title from front matter or a first ``#`` heading.

    Raises :class:`InvalidInput` when nothing is left to read (only code, tables, images or HTML).
    """
    body, title = _front_matter(text)
    blocks, h1 = _blocks(_PARSER.parse(body))
    if title is None and h1 is not None:
        title = blocks.pop(h1)[2:]
    if title:
        if blocks and blocks[0] == f"# {title}":
            blocks.pop(0)
        blocks.insert(0, f"# {title}")
    if not blocks:
        raise InvalidInput("nothing to narrate in this Markdown: it holds only code, tables, images or HTML")
    return Source("\n\n".join(blocks), kind="markdown", title=title or None)


def join_lines(text: str) -> str:
    """One line from several: a space between words, nothing between CJK characters."""
    return _BREAK.sub(_joiner, text).strip()


def _joiner(match: re.Match[str]) -> str:
    before, after = match.string[match.start() - 1 : match.start()], match.string[match.end() : match.end() + 1]
    return "" if _CJK_ONE.match(before) and _CJK_ONE.match(after) else " "


def as_sentence(text: str) -> str:
    """``text`` ending as a sentence: a full stop ("。" for CJK) added when it has no final punctuation."""
    text = text.rstrip(" ,，、")
    if not text or _FINAL.search(text):
        return text
    return text + ("。" if is_cjk(text) else ".")


def _front_matter(text: str) -> tuple[str, str | None]:
    """(the text without its front matter, the front matter's title)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, None
    found = _FRONT_TITLE.search(match.group(2) or "")
    title = found.group(1).strip().strip("\"'").strip() if found else ""
    return text[match.end() :], join_lines(title) or None


def _blocks(tokens: list[Token]) -> tuple[list[str], int | None]:
    """The document's blocks as ytmaker text, and the index of its title heading (a first heading that is h1)."""
    blocks: list[str] = []
    items: list[str] = []  # the sentences of the list being read: one block, a line each
    lists = tables = 0  # nesting depths
    heading: str | None = None  # the open heading's tag
    h1: int | None = None
    seen_heading = False
    for token in tokens:
        kind = token.type
        if kind == "table_open":
            tables += 1
        elif kind == "table_close":
            tables -= 1
        elif tables:
            continue
        elif kind in _LIST_OPEN:
            lists += 1
        elif kind in _LIST_CLOSE:
            lists -= 1
            if not lists and items:
                blocks.append("\n".join(items))
                items = []
        elif kind == "heading_open":
            heading = token.tag
        elif kind == "heading_close":
            heading = None
        elif kind == "inline":
            line = _inline(token.children or [])
            if not line:
                continue
            if lists:
                items.append(as_sentence(_TASK_BOX.sub("", line)))
            elif heading:
                if not seen_heading and heading == "h1":
                    h1 = len(blocks)
                seen_heading = True
                blocks.append(f"# {line}")
            else:
                blocks.append(line)
        # fence, code_block, html_block and hr carry nothing to say
    return blocks, h1


def _inline(children: list[Token]) -> str:
    """An inline run's words: text and inline code kept; images, inline HTML, marks and URLs left out."""
    parts: list[str] = []
    in_autolink = False  # an autolink's text is its URL
    for token in children:
        kind = token.type
        if kind == "link_open" and token.markup in ("autolink", "linkify"):
            in_autolink = True
        elif kind == "link_close":
            in_autolink = False
        elif in_autolink:
            continue
        elif kind in ("text", "code_inline"):
            parts.append(token.content)
        elif kind in ("softbreak", "hardbreak") or (kind == "html_inline" and token.content[:3].lower() == "<br"):
            parts.append("\n")
    return _tidy("".join(parts))


def _tidy(text: str) -> str:
    """Bare URLs out, lines joined, and the spaces and empty brackets the URLs left behind tidied."""
    text = _URL.sub("", text)
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    text = re.sub(r"[ \t]+([.,;:!?])(?=\s|$)", r"\1", join_lines(text))
    return re.sub(r"[ \t]{2,}", " ", text).strip()


__all__ = ["as_sentence", "from_markdown", "join_lines"]
