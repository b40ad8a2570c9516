"""Which reader an input needs (by URL, file name, media type, then its first bytes), and its text."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ytmaker.config import Settings
from ytmaker.errors import InputTooLarge, InvalidInput
from ytmaker.sources import Source
from ytmaker.sources.plain import decode_text

SUFFIXES = {".html": "html", ".htm": "html", ".xhtml": "html", ".md": "markdown", ".markdown": "markdown",
            ".mdown": "markdown", ".pdf": "pdf", ".docx": "docx"}
MEDIA_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "text/markdown": "markdown",
               "text/x-markdown": "markdown", "application/pdf": "pdf",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx"}
#: files people have that ytmaker does not read, and what to do instead
REFUSED = {".doc": "an old Word file: save it as .docx", ".odt": "an OpenDocument file: save it as .docx or .pdf",
           ".rtf": "a rich-text file: save it as .docx or .txt", ".pages": "a Pages file: export it as .docx or .pdf",
           ".epub": "an e-book: save its chapter as .html or .txt"}
# Markdown that plain-text handling would read aloud: fences, front matter, tables, comments, images
_MARKDOWN_SIGNS = re.compile(r"^(?:```|~~~)|\A---\s*\n|^\|.*\|\s*\n\|?\s*:?-{3,}|<!--|!\[[^\]]*\]\(", re.M)
_HTML_START = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)


def is_url(arg: str) -> bool:
    return arg[:8].lower().startswith(("http://", "https://"))


def read_input(arg: str, settings: Settings) -> Source:
    """The source a command line names: a URL, a file, or ``-`` for standard input."""
    if is_url(arg):
        return read_url(arg, settings)
    if arg == "-":
        return from_bytes(sys.stdin.buffer.read(), settings=settings)
    path = Path(arg)
    try:
        size = path.stat().st_size
        if size > _raw_limit(settings, path.name):
            raise InputTooLarge(f"{arg} is {size:,} bytes; the limit is {_raw_limit(settings, path.name):,} "
                                "(YTMAKER_MAX_TEXT_BYTES for a text, YTMAKER_FETCH_MAX_BYTES for a document)")
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {arg}: {exc.strerror}") from None
    return from_bytes(raw, name=path.name, settings=settings)


def read_url(url: str, settings: Settings) -> Source:
    """A page or document fetched from ``url`` (ytmaker.sources.web: public addresses only, size and time limits)."""
    from ytmaker.sources.web import fetch

    fetched = fetch(url, settings)
    source = from_bytes(fetched.body, media_type=fetched.content_type, charset=fetched.charset, url=fetched.url,
                        settings=settings)
    return Source(source.text, source.kind, source.title, fetched.url)


def read_given(given: bytes | str, settings: Settings, *, url: str | None = None, name: str | None = None,
               media_type: str | None = None) -> Source:
    """What a caller handed over (the API, a batch row, the MCP tool): a URL to fetch, a file's bytes (its name and
    type say how to read them), or typed text, checked as UTF-8 within YTMAKER_MAX_TEXT_BYTES."""
    if url:
        return read_url(url, settings)
    if isinstance(given, bytes):
        return from_bytes(given, name=name, media_type=media_type, settings=settings)
    return from_text(decode_text(given, settings.max_text_bytes))


def from_bytes(raw: bytes, *, settings: Settings, name: str | None = None, media_type: str | None = None,
               charset: str | None = None, url: str | None = None) -> Source:
    """The source in ``raw``, read as its name's suffix, its media type or its first bytes say (``charset``: a
    server's, for a page; text is UTF-8)."""
    kind = _kind(raw, name, media_type)
    if kind == "pdf":
        from ytmaker.sources.documents import from_pdf

        return from_pdf(raw)
    if kind == "docx":
        from ytmaker.sources.documents import from_docx

        return from_docx(raw)
    if kind == "html":
        from ytmaker.sources.html import from_html

        return from_html(raw, url=url, charset=charset)
    text = (decode_text(raw, settings.max_text_bytes) if kind == "text"
            else decode_text(raw, settings.fetch_max_bytes, "YTMAKER_FETCH_MAX_BYTES"))
    return from_text(text, markdown=kind == "markdown")


def from_text(text: str, *, markdown: bool = False) -> Source:
    """Typed or pasted text: HTML and Markdown are read as such when they look like it, else it is plain prose."""
    if _HTML_START.match(text[:2000]):
        from ytmaker.sources.html import from_html

        return from_html(text)
    if markdown or _MARKDOWN_SIGNS.search(text):
        from ytmaker.sources.markdown import from_markdown

        return from_markdown(text)
    return Source(text)


def _kind(raw: bytes, name: str | None, media_type: str | None) -> str:
    suffix = Path(name).suffix.lower() if name else ""
    if suffix in REFUSED:
        raise InvalidInput(f"{name} is {REFUSED[suffix]}")
    if raw[:5] == b"%PDF-":
        return "pdf"
    if raw[:4] == b"PK\x03\x04" and (suffix == ".docx" or b"word/" in raw[:4096]):
        return "docx"
    return SUFFIXES.get(suffix) or MEDIA_TYPES.get((media_type or "").split(";")[0].strip().lower()) or "text"


def _raw_limit(settings: Settings, name: str) -> int:
    """Bytes a file may have before it is read: a document's markup is larger than its text."""
    return settings.fetch_max_bytes if Path(name).suffix.lower() in SUFFIXES else settings.max_text_bytes


__all__ = ["from_bytes", "from_text", "is_url", "read_given", "read_input", "read_url"]
