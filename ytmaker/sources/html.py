"""An HTML page's article as ytmaker text, its main content found by trafilatura.

trafilatura drops scripts, styles, navigation, headers, footers, cookie banners and comment sections, and keeps the
article's structure in its XML output (``head``, ``p``, ``list``/``item``, ``quote``, ``code``, ``table``), which this
module walks: headings become ``# `` lines, paragraphs stay apart, list items become sentences, code and tables go.
"""

from __future__ import annotations

import codecs
import re
from xml.etree import ElementTree

import trafilatura
from trafilatura.metadata import examine_meta, extract_title
from trafilatura.utils import load_html

from ytmaker.errors import InvalidInput
from ytmaker.sources import Source

_CJK = "\u2e80-\u2fdf\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")  # line breaks inside Chinese text are not spaces
_FINAL = re.compile(r"[.!?…。！？]['\"’”)\]）」』]*$")
_SENTENCE = re.compile(r"\w[.!?…]['\"’”)\]]*(?:\s|$)|[。！？]")
_DANGLING = re.compile(r"[\s,;:、，；：]+$")
_SITE_SEPARATOR = re.compile(r"\s*[|\-–—:·•»/_]")  # between a page's title and its site's name
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# names pages declare for a charset that is really its superset, as browsers read them (WHATWG Encoding)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252", "latin1": "cp1252",
              "us-ascii": "cp1252", "ascii": "cp1252", "big5": "big5hkscs", "shift_jis": "cp932", "euc-kr": "cp949"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# short calls to action that sometimes sit inside an article's own markup
_CALL_TO_ACTION = re.compile(
    r"^(?:subscribe|sign up|join)\b.{0,80}\b(?:newsletter|updates|inbox)|we use cookies|accept (?:all )?cookies|"
    r"^(?:share|follow us)\b.{0,40}$|订阅.{0,20}(?:newsletter|通讯|邮件|更新)|本网站使用cookie",
    re.I,
)


def from_html(raw: bytes | str, *, url: str | None = None, charset: str | None = None) -> Source:
    """The article in an HTML page (kind "html"); ``charset`` is the HTTP header's, when the page was fetched.

    Raises :class:`InvalidInput` when the page has no article text (a login page, a page of links).
    """
    where = url or "the page"
    tree = load_html(_decoded(raw, charset))
    # the title alone (Open Graph, JSON-LD, <title>, an <h1>): trafilatura's whole metadata pass also looks for
    # dates and fingerprints the text, 0.35 s of the 0.45 a 200 KB page took; taken before extract prunes the tree
    page_title = (examine_meta(tree).title or extract_title(tree) or "") if tree is not None else ""
    document = trafilatura.extract(
        tree, url=url, output_format="xml", include_comments=False,
        include_tables=False, include_images=False, include_links=False, include_formatting=False,
    ) if tree is not None else None
    root = ElementTree.fromstring(document) if document else None  # trafilatura's own serialisation: no DTD, no entities
    main = root.find("main") if root is not None else None
    found = _blocks(main) if main is not None else []
    # trafilatura falls back to a page's whole text (menus, form labels): without a sentence, it is not an article
    if not any(prose and _SENTENCE.search(text) for text, prose in found):
        raise InvalidInput(f"found no article text on {where}; save the article's text and give that instead")
    blocks = [text for text, _ in found]
    title = _clean(page_title)
    first = blocks[0][2:] if blocks[0].startswith("# ") else ""
    if first and (not title or _same(title, first)):
        title = first  # the page's own heading, without the site's name a <title> often carries
    elif title:
        blocks.insert(0, f"# {title}")
    return Source("\n\n".join(blocks), kind="html", title=title or None, url=url)


def _decoded(raw: bytes | str, charset: str | None) -> bytes | str:
    """The page as text when its charset is known (BOM, header, <meta>); else the bytes, for trafilatura to detect."""
    if isinstance(raw, str):
        return raw
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return raw.decode(name, errors="replace")
    meta = _META_CHARSET.search(raw[:4096])
    for declared in (charset, meta.group(1).decode("ascii") if meta else None):
        if declared:
            name = _SUPERSETS.get(declared.lower(), declared)
            try:
                return raw.decode(name)
            except (LookupError, UnicodeDecodeError):  # a wrong or unknown declaration: try the next clue
                continue
    return raw


def _blocks(element: ElementTree.Element) -> list[tuple[str, bool]]:
    """The ytmaker text blocks ("# heading", paragraph, list as sentences) of a trafilatura XML element's children,
    each with whether it is prose (a paragraph, as opposed to a heading or a list)."""
    blocks: list[tuple[str, bool]] = []
    for child in element:
        if child.tag == "head":
            blocks.append((f"# {_clean(_text(child))}", False))
        elif child.tag == "list":
            blocks.append((_CJK_GAP.sub("", " ".join(_sentences(child))), False))
        elif child.tag in ("quote", "div") and len(child):
            blocks += _blocks(child)
        elif child.tag not in ("code", "table", "graphic"):  # code and tables are not read aloud
            text = _clean(_text(child))
            if not (len(text) < 200 and _CALL_TO_ACTION.search(text)):
                blocks.append((text, True))
    return [(text, prose) for text, prose in blocks if text.strip("# ")]


def _sentences(list_element: ElementTree.Element) -> list[str]:
    """Each item of a (nested) list as a sentence that ends in punctuation."""
    sentences: list[str] = []
    for item in list_element.iter("item"):
        text = _DANGLING.sub("", _clean(_text(item, skip=("list",))))
        if text:
            sentences.append(text if _FINAL.search(text) else text + ("。" if re.match(f"[{_CJK}]", text[-1]) else "."))
    return sentences


def _text(element: ElementTree.Element, skip: tuple[str, ...] = ()) -> str:
    """The element's text, without its block code and tables (inline code stays: the sentence needs its words)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag not in skip and child.tag not in ("table", "graphic"):
            parts.append(_text(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def _clean(text: str) -> str:
    return _CJK_GAP.sub("", re.sub(r"\s+", " ", text)).strip()


def _same(a: str, b: str) -> bool:
    """Whether a title and a heading name the same thing ("Why Bridges Sway | News", "News: Why bridges sway")."""
    short, long = sorted((a.casefold(), b.casefold()), key=len)
    rest = long.removeprefix(short) if long.startswith(short) else long.removesuffix(short)[::-1]
    return long == short or (len(rest) < len(long) and bool(_SITE_SEPARATOR.match(rest)))


__all__ = ["from_html"]
