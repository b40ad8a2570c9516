"""What people give ytmaker (a text, a Markdown or HTML file, a PDF, a Word file, a URL), as the text it narrates.

Every reader returns a :class:`Source` whose ``text`` is *ytmaker text*: paragraphs apart by blank lines, each
heading a Markdown ``# `` line of its own (``ytmaker.text.sections`` cuts segments there; a first heading is the
title), list items as sentences, and nothing that should not be read aloud (code, tables, navigation, footers).
The readers for each kind live in their own modules and are imported when that kind is met.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the kinds of input, as ``Source.kind`` names them
KINDS = ("text", "markdown", "html", "pdf", "docx")


@dataclass(frozen=True)
class Source:
    text: str  # ytmaker text (see the module's docstring)
    kind: str = "text"
    title: str | None = None  # the document's own title (also the text's first heading when it has one)
    url: str | None = None  # where it was fetched from: the video's description credits it


__all__ = ["KINDS", "Source"]
