"""PDF and Word files read as ytmaker text, from files the tests make (fpdf2, python-docx, Pillow, pypdf's writer)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import docx
import pytest
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image
from pypdf import PdfReader, PdfWriter

from ytmaker.errors import InvalidInput
from ytmaker.media.fonts import bundled_font
from ytmaker.sources.documents import from_docx, from_pdf
from ytmaker.text import sections

HEADER = "Harbour Authority Bridge Report 2026"

# Lines as they stand on the pages: a hyphenated line end ("trans-"), a paragraph that goes on over a page break,
# short last lines and short headings
REPORT = [
    ["Why bridges sway",
     "Every bridge moves a little. Wind pushes on its deck and towers, and people walking across",
     "it push it too. Most of the time the motion is far too small to feel, but on some days it is",
     "not, and engineers then have to think hard about how a structure handles the trans-",
     "port of energy from one span to the next.",
     "In 2000 a new footbridge in London began to sway as crowds crossed it on its opening day.",
     "The walkers fell into step with the motion and made it worse, and so the footbridge had to"],
    ["close within days of opening while its designers worked out what had gone wrong with it.",
     "What engineers do",
     "They add dampers under the deck to soak up the energy of the swaying, and they test models",
     "of new designs in wind tunnels long before the first pile is driven into the river bed."],
    ["The footbridge reopened two years later, and it has stood still ever since that long wait.",
     "Crowds still cross it every day."],
]
EXPECTED = (
    "# Why bridges sway\n\n"
    "Every bridge moves a little. Wind pushes on its deck and towers, and people walking across it push it too. "
    "Most of the time the motion is far too small to feel, but on some days it is not, and engineers then have to "
    "think hard about how a structure handles the transport of energy from one span to the next.\n\n"
    "In 2000 a new footbridge in London began to sway as crowds crossed it on its opening day. The walkers fell into "
    "step with the motion and made it worse, and so the footbridge had to close within days of opening while its "
    "designers worked out what had gone wrong with it.\n\n"
    "What engineers do\n\n"
    "They add dampers under the deck to soak up the energy of the swaying, and they test models of new designs in "
    "wind tunnels long before the first pile is driven into the river bed. The footbridge reopened two years later, "
    "and it has stood still ever since that long wait. Crowds still cross it every day."
)


def make_pdf(pages: list[list[str]], *, header: str | None = None, footer: Callable[[int, int], str] | None = None,
             title: str | None = None, font: str | None = None) -> bytes:
    """A PDF with exactly these lines on each page, and a running header and footer when given."""

    class Document(FPDF):
        def header(self) -> None:
            if header:
                self.cell(0, 8, header, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

        def footer(self) -> None:
            if footer:
                self.set_y(-15)
                self.cell(0, 8, footer(self.page_no(), len(pages)), align="C")

    pdf = Document()
    pdf.set_auto_page_break(False)
    if font:
        pdf.add_font("cjk", fname=font)
        pdf.set_font("cjk", size=12)
    else:
        pdf.set_font("helvetica", size=11)
    if title:
        pdf.set_title(title)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def encrypt(raw: bytes, *, user_password: str, owner_password: str | None = None) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw)))
    writer.encrypt(user_password, owner_password, algorithm="RC4-128")  # RC4: pypdf needs no extra package for it
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("page_number", [
    lambda n, total: f"Page {n} of {total}", lambda n, total: str(n), lambda n, total: f"- {n} -",
], ids=["page-n-of-total", "bare-number", "dashed"])
def test_a_report_loses_its_running_header_and_page_numbers_and_keeps_its_paragraphs(page_number) -> None:
    raw = make_pdf(REPORT, header=HEADER, footer=page_number, title="Why bridges sway")

    source = from_pdf(raw)

    assert source.kind == "pdf" and source.title == "Why bridges sway"
    assert source.text.count("Harbour Authority") == 0
    assert "transport of energy" in source.text and "trans-" not in source.text
    assert source.text == EXPECTED
    assert [s.heading for s in sections(source.text)] == ["Why bridges sway", "What engineers do"]


def test_a_running_footer_with_text_and_a_page_number_is_dropped_and_a_one_page_header_is_kept() -> None:
    footer = make_pdf(REPORT, footer=lambda n, total: f"Harbour Authority, page {n}")
    single = make_pdf([["Harbour Authority notes", "One page only, so no line can be seen repeating."]])

    assert from_pdf(footer).text.count("Harbour Authority") == 0
    assert from_pdf(single).text == "Harbour Authority notes\n\nOne page only, so no line can be seen repeating."


def test_chinese_lines_join_without_a_space() -> None:
    font = bundled_font()
    assert font, "noto-cjk-sans-otc is a dependency"
    lines = ["竹子是一种生长很快的植物，它在中国南方非常常见，人们用它来建造房子和桥梁，",
             "也用它来做筷子和家具。", "熊猫几乎只吃竹子。"]
    raw = make_pdf([lines], title="竹子", font=font)

    assert from_pdf(raw).text == (
        "# 竹子\n\n竹子是一种生长很快的植物，它在中国南方非常常见，人们用它来建造房子和桥梁，也用它来做筷子和家具。\n\n熊猫几乎只吃竹子。"
    )


@pytest.mark.parametrize("title", ["", "untitled", "Microsoft Word - report.docx", "draft.pdf", "  "])
def test_a_meaningless_document_title_is_no_title(title: str) -> None:
    source = from_pdf(make_pdf([["Some text on a page."]], title=title))

    assert source.title is None and source.text == "Some text on a page."


def test_a_pdf_with_only_an_owner_password_opens() -> None:
    raw = encrypt(make_pdf([["Readable by anyone."]]), user_password="", owner_password="owner")

    assert from_pdf(raw).text == "Readable by anyone."


def test_a_password_protected_pdf_is_refused() -> None:
    raw = encrypt(make_pdf([["Secret plans."]]), user_password="secret")

    with pytest.raises(InvalidInput, match="password-protected"):
        from_pdf(raw)


def test_a_scan_without_a_text_layer_is_refused_with_ocr_suggested() -> None:
    out = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(out, "PDF")

    with pytest.raises(InvalidInput, match=r"no text layer.*scan.*OCR"):
        from_pdf(out.getvalue())


def test_a_scan_with_only_page_numbers_as_text_is_refused() -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for n in (1, 2):
        pdf.add_page()
        pdf.image(Image.new("RGB", (200, 100), "white"), x=10, y=10, w=100)
        pdf.set_y(-15)
        pdf.cell(0, 8, f"Page {n}")

    with pytest.raises(InvalidInput, match="OCR"):
        from_pdf(bytes(pdf.output()))


def test_blank_pages_are_refused() -> None:
    with pytest.raises(InvalidInput, match="blank"):
        from_pdf(make_pdf([[], []]))


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "empty"), (b"  \n", "empty"), (b"GIF89a not a pdf at all", "not a PDF"), (b"PK\x03\x04zip", "not a PDF"),
])
def test_empty_and_non_pdf_files_are_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        from_pdf(raw)


def test_a_damaged_pdf_is_refused_with_pypdfs_error_chained() -> None:
    raw = make_pdf(REPORT)

    with pytest.raises(InvalidInput, match="damaged") as caught:
        from_pdf(raw[: len(raw) // 3])
    assert caught.value.__cause__ is not None


def make_docx(build: Callable[[docx.document.Document], None]) -> bytes:
    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_word_file_reads_its_body_in_order_with_headings_lists_and_no_tables_or_page_headers() -> None:
    def build(document: docx.document.Document) -> None:
        document.core_properties.title = "Properties title"
        section = document.sections[0]
        section.header.paragraphs[0].text = "Running header text"
        section.footer.paragraphs[0].text = "Page footer text"
        document.add_heading("Why bridges sway", level=0)  # the Title style
        document.add_paragraph("Every bridge moves a little.\tWind pushes it.")
        document.add_heading("What engineers do", level=1)
        document.add_paragraph("They use:")
        document.add_paragraph("dampers under the deck", style="List Bullet")
        document.add_paragraph("wind tunnels, for models!", style="List Number")
        table = document.add_table(rows=1, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "Table cell", "42"
        document.add_paragraph("")
        document.add_heading("A deeper part", level=3)
        document.add_paragraph("The end.")

    source = from_docx(make_docx(build))

    assert source.kind == "docx" and source.title == "Why bridges sway"
    assert source.text == (
        "# Why bridges sway\n\nEvery bridge moves a little. Wind pushes it.\n\n# What engineers do\n\nThey use:\n\n"
        "dampers under the deck.\nwind tunnels, for models!\n\n# A deeper part\n\nThe end."
    )
    for unread in ("Running header", "Page footer", "Table cell", "42"):
        assert unread not in source.text


def test_the_documents_properties_give_the_title_when_no_paragraph_has_the_title_style() -> None:
    def build(document: docx.document.Document) -> None:
        document.core_properties.title = "Tides"
        document.add_paragraph("潮汐每天两次。")
        document.add_paragraph("月亮", style="List Bullet")
        document.add_paragraph("太阳，", style="List Bullet")

    source = from_docx(make_docx(build))

    assert source.title == "Tides"
    assert source.text == "# Tides\n\n潮汐每天两次。\n\n月亮。\n太阳。"


def zip_of(name: str, data: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(("raw", "reason"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old Word .doc"),
    (b"random bytes, not a document", "not a Word .docx"),
    (b"", "empty"),
    (zip_of("notes.txt", "hello"), "not a readable Word .docx"),
    (b"PK\x03\x04 a broken zip", "not a readable Word .docx"),
], ids=["doc", "random", "empty", "zip-not-docx", "broken-zip"])
def test_files_that_are_not_word_documents_are_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        from_docx(raw)


def test_a_word_file_with_no_text_outside_its_tables_is_refused() -> None:
    def build(document: docx.document.Document) -> None:
        document.add_table(rows=1, cols=1).cell(0, 0).text = "only a table"
        document.sections[0].header.paragraphs[0].text = "only a header"

    with pytest.raises(InvalidInput, match="no text"):
        from_docx(make_docx(build))
