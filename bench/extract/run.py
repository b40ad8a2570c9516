"""Extraction benchmark: turning a page or a document into the text ytmaker narrates (ytmaker.sources).

    python bench/extract/run.py              # 7 runs of each case, medians
    python bench/extract/run.py --runs 3

Each input is made here, the size the budget names: a 200 KB HTML article with navigation, scripts, a cookie
banner and comments around it; a 50-page PDF (~400 words a page, a running header, page numbers, a hyphenated
line end on every page); a 200 KB Markdown file with code, tables and lists; a 50-page-long .docx. Each case is
timed against its **baseline**, the library call alone in the same run (trafilatura's plain-text extraction,
pypdf's ``extract_text`` of every page, markdown-it's parse, python-docx's paragraph texts): the difference is
what ytmaker adds (structure, headers and footers dropped, headings, list sentences). Budget: < 1 s each.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

WORDS = ["bridge", "river", "engineer", "steel", "cable", "deck", "tower", "wind", "load", "traffic", "city", "design", "span",
         "concrete", "water", "harbour", "crane", "ship", "crew", "tide", "storm", "light", "road", "rail", "station", "market"]
BUDGET_S = 1.0


def sentence(rng: random.Random, words: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def html_page(target: int = 200_000) -> str:
    rng = random.Random(1)
    head = ("<!doctype html><html><head><title>Why bridges sway</title><script>" + "var t = 1;" * 500
            + "</script><style>" + "p{margin:0}" * 300 + "</style></head><body><nav>"
            + " | ".join(f'<a href="/s{i}">Section {i}</a>' for i in range(60)) + "</nav><article><h1>Why bridges sway</h1>")
    tail = ('</article><div class="cookie-banner">We use cookies. Accept all.</div><section class="comments">'
            + "".join(f"<p>Comment {i}: great read!</p>" for i in range(50)) + "</section><footer>Copyright 2026</footer></body></html>")
    body: list[str] = []
    size = len(head) + len(tail)
    while size < target:
        part = (f"<h2>{sentence(rng, 4)[:-1]}</h2>" if len(body) % 12 == 0 else
                "<ul>" + "".join(f"<li>{sentence(rng, 6)}</li>" for _ in range(3)) + "</ul>" if len(body) % 7 == 3 else
                f"<p>{' '.join(sentence(rng) for _ in range(4))}</p>")
        body.append(part)
        size += len(part)
    return head + "".join(body) + tail


def pdf_document(pages: int = 50) -> bytes:
    from fpdf import FPDF

    rng = random.Random(2)
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("helvetica", size=9)
        pdf.set_xy(10, 8)
        pdf.cell(0, 5, "Harbour Report 2026 - Internal")
        pdf.set_font("helvetica", size=10)
        pdf.set_xy(10, 20)
        text = " ".join(sentence(rng) for _ in range(28))  # ~400 words
        pdf.multi_cell(0, 4.6, text.replace(" steel ", " stee-\nl ", 1))
        pdf.set_xy(10, 285)
        pdf.set_font("helvetica", size=9)
        pdf.cell(0, 5, f"Page {number} of {pages}", align="C")
    return bytes(pdf.output())


def markdown_file(target: int = 200_000) -> str:
    rng = random.Random(3)
    parts = ["---\ntitle: Bridges\n---\n\n# Bridges\n"]
    size = 0
    while size < target:
        block = rng.choice([
            f"\n## {sentence(rng, 4)[:-1]}\n",
            "\n" + " ".join(sentence(rng) for _ in range(4)) + "\n",
            "\n```python\n" + "\n".join(f"x{i} = load({i})" for i in range(8)) + "\n```\n",
            "\n| span | load |\n|---|---|\n" + "".join(f"| {i} | {i * 3} |\n" for i in range(6)),
            "\n" + "".join(f"- {sentence(rng, 6)} See [the plan](https://example.org/{i}).\n" for i in range(4)),
        ])
        parts.append(block)
        size += len(block)
    return "".join(parts)


def docx_document(paragraphs: int = 600) -> bytes:
    from docx import Document

    rng = random.Random(4)
    document = Document()
    document.add_paragraph("Harbour cranes", style="Title")
    for i in range(paragraphs):
        if i % 15 == 0:
            document.add_paragraph(sentence(rng, 4)[:-1], style="Heading 1")
        elif i % 9 == 4:
            document.add_paragraph(sentence(rng, 6)[:-1], style="List Bullet")
        else:
            document.add_paragraph(" ".join(sentence(rng) for _ in range(3)))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def timed(work: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def cases() -> list[tuple[str, int, Callable[[], object], Callable[[], object]]]:
    """(name, input bytes, ytmaker's reader, the library call alone)."""
    import trafilatura
    from docx import Document
    from markdown_it import MarkdownIt
    from pypdf import PdfReader

    from ytmaker.sources.documents import from_docx, from_pdf
    from ytmaker.sources.html import from_html
    from ytmaker.sources.markdown import from_markdown

    page, pdf, md, doc = html_page(), pdf_document(), markdown_file(), docx_document()
    return [
        ("HTML article, 200 KB", len(page.encode()), lambda: from_html(page), lambda: trafilatura.extract(page)),
        ("PDF, 50 pages", len(pdf), lambda: from_pdf(pdf),
         lambda: [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]),
        ("Markdown, 200 KB", len(md.encode()), lambda: from_markdown(md), lambda: MarkdownIt("commonmark").enable("table").parse(md)),
        (".docx, 600 paragraphs", len(doc), lambda: from_docx(doc),
         lambda: [p.text for p in Document(io.BytesIO(doc)).paragraphs]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"| input | size | ytmaker, median s (min) | baseline: the library alone, median s (min) | words out | < {BUDGET_S:g} s |")
    print("|---|---|---|---|---|---|")
    for name, size, ours, library in cases():
        ours(), library()  # warm: imports, caches
        mine, base = timed(ours, args.runs), timed(library, args.runs)
        words = len(ours().text.split())  # type: ignore[attr-defined]
        print(f"| {name} | {size / 1000:,.0f} KB | {mine[0]:.3f} ({mine[1]:.3f}) | {base[0]:.3f} ({base[1]:.3f}) | {words:,} | "
              f"{'met' if mine[0] < BUDGET_S else 'MISSED'} |")


if __name__ == "__main__":
    main()
