"""PDF and Word files as ytmaker text.

A PDF has no paragraphs, only lines placed on pages, so the reader rebuilds them: running headers and footers
(a line that repeats at the top or bottom of most pages, digits aside) and page numbers are dropped, a word
hyphenated at a line end is joined, and the lines of a paragraph become one (a blank line or a clearly shorter
line ends it). A Word file has real paragraphs and styles: headings become ``# `` lines, the Title style gives
the title, list paragraphs become sentences; tables are dropped, and page headers and footers live in other
parts of the file, which are not read.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from typing import Any

from ytmaker.errors import InvalidInput
from ytmaker.sources import Source
from ytmaker.sources.markdown import as_sentence, join_lines

#: a page number alone on its line: "3", "- 3 -", "Page 3", "Page 3 of 10", "3 / 10", "iv"
_PAGE_NUMBER = re.compile(r"^(?:page|p\.)?\s*[-–—]?\s*(?:\d+|[ivxlc]+)\s*(?:(?:of|/)\s*\d+)?\s*[-–—]?$", re.I)
#: a line that ends inside a word: "trans-" (a soft hyphen or U+2010 counts too)
_HYPHEN_END = re.compile(r"[^\W\d_][-\u00ad\u2010]$")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'’”)\]）」』]*$")
_PUNCTUATION = tuple(".!?…,;:，。！？；：、")
_CJK_WIDE = re.compile(r"[\u2e80-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
#: a line narrower than this share of the text's usual width ends its paragraph
_SHORT_LINE = 0.7
#: how many lines a running header or footer may take
_RUNNING_LINES = 2
#: document-info titles that say nothing: tool defaults and file names
_NO_TITLE = re.compile(r"^(?:untitled.*|title|document\d*|microsoft word\b.*|.*\.(?:docx?|pdf|odt|rtf|txt|indd|tex))$", re.I)
#: control characters some fonts' text maps leave in the text (NULs between CJK characters)
_CONTROLS = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])
_DOC_MAGIC = b"\xd0\xcf\x11\xe0"  # an OLE file: Word 97-2003's .doc


def from_pdf(raw: bytes) -> Source:
    """The text of a PDF's text layer as paragraphs; its title from the document info when it is meaningful.

    Raises :class:`InvalidInput` for an empty, damaged, password-protected or scanned (image-only) PDF.
    """
    pages, title = _read_pdf(raw)
    lines = [line for page in _strip_running(pages) for line in page]
    paragraphs = _paragraphs(lines)
    if not paragraphs:
        raise InvalidInput("the PDF has no text besides its running headers, footers and page numbers; "
                           "if its pages are scanned images, run it through OCR (e.g. ocrmypdf) and try again")
    title = _meaningful(title)
    if title:
        if paragraphs and paragraphs[0].casefold() == title.casefold():
            paragraphs.pop(0)
        paragraphs.insert(0, f"# {title}")
    return Source("\n\n".join(paragraphs), kind="pdf", title=title)


def _style_names(document: Any) -> Callable[[Any], str]:
    """A paragraph's style name (casefolded) from its properties, the styles looked up once: python-docx's
    ``Paragraph.style`` scans every style for the default on each call (1.5 s for 600 paragraphs)."""
    from docx.enum.style import WD_STYLE_TYPE

    names = {style.style_id: (style.name or "").casefold() for style in document.styles}
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    plain = (default.name or "").casefold() if default is not None else ""

    def style_of(properties: Any) -> str:
        style_id = properties.pStyle.val if properties is not None and properties.pStyle is not None else None
        return names.get(style_id, plain) if style_id else plain

    return style_of


def from_docx(raw: bytes) -> Source:
    """The body paragraphs of a Word (.docx) file, headings as ``# `` lines; its title from the Title style or
    the document's properties.

    Raises :class:`InvalidInput` for a file that is not a .docx (an old .doc, random bytes) or has no text.
    """
    import docx  # lazily: only Word files need it
    from docx.opc.exceptions import PackageNotFoundError

    if not raw.strip():
        raise InvalidInput("the Word file is empty")
    if raw.startswith(_DOC_MAGIC):
        raise InvalidInput("this is an old Word .doc file; open it in Word or LibreOffice, save it as .docx and try again")
    if not raw.startswith(b"PK"):
        raise InvalidInput("this is not a Word .docx file (a .docx is a zip archive); save the document as .docx and try again")
    try:
        document = docx.Document(io.BytesIO(raw))
        core_title = document.core_properties.title
        style_of = _style_names(document)
        paragraphs = [(p.text, style_of(p._p.pPr), p._p.pPr is not None and p._p.pPr.numPr is not None)
                      for p in document.paragraphs]
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as exc:
        # lxml's XMLSyntaxError is a SyntaxError; python-docx says "not a Word file" with a ValueError
        raise InvalidInput(f"this file is not a readable Word .docx document ({exc}); save it again as .docx and retry") from exc
    title: str | None = None
    blocks: list[str] = []
    items: list[str] = []  # consecutive list paragraphs: one block, a sentence a line
    for raw_text, style, numbered in paragraphs:
        text = " ".join(join_lines(raw_text).split())
        heading = style == "title" or re.fullmatch(r"heading [1-9]", style) is not None
        listed = not heading and (numbered or style.startswith("list"))  # numbered headings are still headings
        if items and not listed:
            blocks.append("\n".join(items))
            items = []
        if not text:
            continue
        if style == "title" and title is None:
            title = text
        elif heading:
            blocks.append(f"# {text}")
        elif listed:
            items.append(as_sentence(text))
        else:
            blocks.append(text)
    if items:
        blocks.append("\n".join(items))
    title = title or _meaningful(core_title)
    if not blocks and not title:
        raise InvalidInput("this Word document has no text to narrate (tables and page headers are not read)")
    if title:
        blocks.insert(0, f"# {title}")
    return Source("\n\n".join(blocks), kind="docx", title=title)


def _read_pdf(raw: bytes) -> tuple[list[list[str]], str | None]:
    """Each page's stripped lines, and the document info's title; the one place pypdf's errors are translated."""
    from pypdf import PdfReader  # lazily: only PDFs need it
    from pypdf.errors import DependencyError

    if not raw.strip():
        raise InvalidInput("the PDF file is empty")
    if b"%PDF-" not in raw[:1024]:
        raise InvalidInput("this is not a PDF file (no %PDF- header); check that the right file was given")
    try:
        reader = PdfReader(io.BytesIO(raw))
        # an empty user password is common (owner-only restrictions): such a file opens without one
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInput("the PDF is password-protected; remove the password (or print it to a new PDF) and try again")
        texts = [page.extract_text() or "" for page in reader.pages]
        scanned = not any(t.strip() for t in texts) and any(len(page.images) for page in reader.pages)
        title = reader.metadata.title if reader.metadata else None
    except (InvalidInput, DependencyError):
        raise  # ours, or a missing optional package (cryptography for AES): not the file's fault
    except Exception as exc:  # damaged files make pypdf raise almost anything (KeyError, TypeError, ...)
        raise InvalidInput(f"the PDF is damaged and cannot be read ({type(exc).__name__}: {exc}); "
                           "save or export it again and retry") from exc
    if scanned:
        raise InvalidInput("the PDF has no text layer: its pages are images (a scan); "
                           "run it through OCR (e.g. ocrmypdf) and try again")
    if not any(t.strip() for t in texts):
        raise InvalidInput("the PDF has no text to narrate: it has no pages, or they are blank")
    return [_trim([line.strip() for line in t.translate(_CONTROLS).splitlines()]) for t in texts], title


def _trim(lines: list[str]) -> list[str]:
    """Lines without blank ones at either end."""
    kept = [i for i, line in enumerate(lines) if line]
    return lines[kept[0] : kept[-1] + 1] if kept else []


def _strip_running(pages: list[list[str]]) -> list[list[str]]:
    """Pages without their running headers, footers and page numbers (from the top, then from the bottom).

    A running line is one whose text, digits aside ("Report 2026 — page 3"), is at that end of at least two pages
    and half of them; a header of several lines goes one line a round.
    """
    for end in (0, -1):
        for _ in range(_RUNNING_LINES):
            counts = Counter(_shape(page[end]) for page in pages if page)
            running = {shape for shape, n in counts.items() if n >= 2 and 2 * n >= len(pages)}
            dropped = False
            for i, page in enumerate(pages):
                if page and (_shape(page[end]) in running or _PAGE_NUMBER.match(page[end])):
                    pages[i] = _trim(page[1:] if end == 0 else page[:-1])
                    dropped = True
            if not dropped:
                break
    return pages


def _shape(line: str) -> str:
    return re.sub(r"\d+", "0", " ".join(line.casefold().split()))


def _paragraphs(lines: list[str]) -> list[str]:
    """Lines joined into paragraphs. A blank line or a line clearly shorter than the usual ends one (unless it
    ends inside a hyphenated word); a short line without final punctuation after a finished sentence is a
    paragraph of its own (a heading, which ``ytmaker.text.sections`` then finds)."""
    widths = sorted(_width(line) for line in lines if line)
    usual = widths[-1 - (len(widths) - 1) // 5] if widths else 0  # the 80th percentile: most lines are full
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        short = _width(line) < _SHORT_LINE * usual
        if current and line and short and _SENTENCE_END.search(current[-1]) and not line.endswith(_PUNCTUATION):
            paragraphs.append(_join(current))
            current = []
        if line:
            current.append(line)
        if current and (not line or (short and not _HYPHEN_END.search(line))):
            paragraphs.append(_join(current))
            current = []
    return paragraphs


def _join(lines: list[str]) -> str:
    """One paragraph from its lines: "trans-" + "port" is "transport"; CJK lines join without a space."""
    text = "\n".join(lines)
    text = re.sub(r"(?<=[^\W\d_])[-\u00ad\u2010]\n(?=[^\W\d_A-Z])", "", text)
    return re.sub(r"[ \t]{2,}", " ", join_lines(text.replace("\u00ad", "")))


def _width(line: str) -> int:
    """A line's width in Latin characters (a CJK character is about two)."""
    return len(line) + len(_CJK_WIDE.findall(line))


def _meaningful(title: str | None) -> str | None:
    """A document-info title worth using: not empty, not a tool's default, not a file name."""
    title = " ".join((title or "").split())
    if sum(c.isalpha() for c in title) < 2 or _NO_TITLE.match(title):
        return None
    return title


__all__ = ["from_docx", "from_pdf"]
