"""Every kind of input reaches a project the same way: `make FILE|URL`, the API's file and url, batch rows, schedules."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import wait_until
from tests.service_support import service_rt  # noqa: F401  (fixture)
from ytmaker.batch_file import check_rows
from ytmaker.config import Settings
from ytmaker.errors import InvalidInput
from ytmaker.service.app import create_app
from ytmaker.sources.reading import from_bytes, from_text

ARTICLE = """<!doctype html><html><head><title>Why bridges sway</title>
<script>var tracking = "pixel-4411";</script><style>body{font:12px sans-serif}</style></head><body>
<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/login">Log in</a></nav>
<article><h1>Why bridges sway</h1>
<p>When thousands of people walk across a light footbridge, their steps can fall into step with the bridge itself.
Each small sway nudges walkers to widen their stance, and their footfalls push the deck further the same way.</p>
<p>Engineers now add dampers under the deck. The dampers soak up the motion before it can grow into a swing
that people notice, so the crossing feels as steady as a pavement.</p>
<h2>What changed after the opening day</h2>
<p>The Millennium Bridge in London closed two days after it opened in 2000. It reopened two years later with
dozens of dampers fitted under its walkway, and it has stayed steady ever since, even on the busiest days.</p>
</article>
<div class="cookie-banner">We use cookies. Cookie settings. Accept all cookies.</div>
<footer>Copyright 2026 Example News. Subscribe to our newsletter.</footer></body></html>"""
BOILERPLATE = ("pixel-4411", "font:12px", "Log in", "Cookie settings", "Copyright 2026", "newsletter")
SETTINGS = Settings(_env_file=None)


@contextmanager
def pages(routes: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    """A loopback HTTP server answering each path with (media type, body); others 404. Yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kind, body = routes.get(self.path, ("", b""))
            self.send_response(200 if kind else 404)
            self.send_header("Content-Type", kind or "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def docx_bytes(*paragraphs: tuple[str, str]) -> bytes:
    from docx import Document

    document = Document()
    for style, text in paragraphs:
        document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def test_each_kind_is_read_by_its_name_its_type_or_its_first_bytes():
    assert from_bytes(ARTICLE.encode(), name="saved.html", settings=SETTINGS).kind == "html"
    assert from_bytes(ARTICLE.encode(), media_type="text/html; charset=utf-8", settings=SETTINGS).kind == "html"
    # a PDF named .txt is still a PDF; typed HTML and Markdown are read as such; prose stays as it was typed
    assert from_bytes(pdf_bytes("Bridges sway when crowds walk in step."), name="notes.txt", settings=SETTINGS).kind == "pdf"
    assert from_text(ARTICLE).kind == "html"
    fenced = "# Setup\n\nInstall it first.\n\n```sh\npip install ytmaker\n```\n"
    assert from_text(fenced).kind == "markdown" and "pip install" not in from_text(fenced).text
    prose = "Bees dance. The dance points to food.\n\nScouts vote on a new home."
    assert from_text(prose).text == prose and from_text(prose).kind == "text"
    with pytest.raises(InvalidInput, match=r"old Word file: save it as \.docx"):
        from_bytes(b"\xd0\xcf\x11\xe0", name="report.doc", settings=SETTINGS)
    with pytest.raises(InvalidInput, match=r"PDF or \.docx file"):
        from_bytes(b"\x89PNG\r\n\x1a\n\x00\x00", name="photo.png", settings=SETTINGS)


def _cli(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("YTMAKER_")}
    clean.update(YTMAKER_DATA_DIR=str(tmp_path / "data"), YTMAKER_RENDER_QUALITY="draft", **env)
    return subprocess.run([sys.executable, "-m", "ytmaker", *args], capture_output=True, env=clean, timeout=300)


def test_make_url_narrates_the_article_alone_and_credits_its_source(tmp_path):
    with pages({"/bridges.html": ("text/html; charset=utf-8", ARTICLE.encode())}) as base:
        refused = _cli(["make", f"{base}/bridges.html"], tmp_path)
        assert refused.returncode == 1 and "YTMAKER_FETCH_ALLOW_PRIVATE" in refused.stderr.decode()
        assert not list((tmp_path / "data").glob("projects/*"))  # refused before a project exists

        made = _cli(["make", f"{base}/bridges.html"], tmp_path, YTMAKER_FETCH_ALLOW_PRIVATE="1")
    err = made.stderr.decode()
    assert made.returncode == 0, err
    metadata = json.loads(next((tmp_path / "data").glob("published/*/metadata.json")).read_text())
    assert metadata["title"] == "Why bridges sway"
    assert f"Source: {base}/bridges.html" in metadata["description"]
    subtitles = next((tmp_path / "data").glob("projects/*/subtitles.srt")).read_text()
    assert "dampers" in subtitles and "Millennium Bridge" in subtitles
    assert not [word for word in BOILERPLATE if word in subtitles]


def test_the_api_takes_a_url_or_a_document_and_refuses_private_addresses(service_rt):  # noqa: F811
    with pages({"/a.html": ("text/html", ARTICLE.encode())}) as base, TestClient(create_app(service_rt)) as client:
        api = "/api/v1/projects"
        refused = client.post(api, json={"url": f"{base}/a.html"})
        assert refused.status_code == 422 and "YTMAKER_FETCH_ALLOW_PRIVATE" in refused.json()["detail"]
        both = client.post(api, json={"url": f"{base}/a.html", "text": "Bees dance."})
        assert both.status_code == 422 and "either text or url" in both.json()["detail"]
        neither = client.post(api, json={"title": "no text"})
        assert neither.status_code == 422 and "the text is empty" in neither.json()["detail"]
        assert client.get(api).json()["items"] == []

        service_rt.settings.fetch_allow_private = True
        missing = client.post(api, json={"url": f"{base}/gone.html"})
        assert missing.status_code == 422 and "404" in missing.json()["detail"]
        made = client.post(api, json={"url": f"{base}/a.html"})
        assert made.status_code == 201, made.text
        uploaded = client.post(api, files={"file": ("report.docx", docx_bytes(
            ("Title", "Harbour cranes"), ("Normal", "Cranes lift containers from ships at night."),
            ("Normal", "Each crane moves thirty boxes an hour.")), "application/octet-stream")})
        assert uploaded.status_code == 201, uploaded.text
        for created in (made, uploaded):  # made to the end by the server's worker (instant providers)
            wait_until(lambda c=created: client.get(c.json()["links"]["self"]).json()["status"] == "completed", 60, "a project")
        script = client.get(made.json()["links"]["self"]).json()
        assert script["title"] == "Why bridges sway", script

    from ytmaker.projects import load_project

    page = load_project(service_rt, made.json()["id"])
    assert page.source_url == f"{base}/a.html" and "dampers" in page.content
    assert not [word for word in BOILERPLATE if word in page.content]
    document = load_project(service_rt, uploaded.json()["id"])
    assert "thirty boxes" in document.content and document.source_url is None


def test_batch_rows_and_folders_take_documents_and_urls(service_rt, tmp_path):  # noqa: F811
    folder = tmp_path / "queue"
    folder.mkdir()
    (folder / "1-cranes.docx").write_bytes(docx_bytes(("Heading 1", "Harbour cranes"),
                                                      ("Normal", "Cranes lift containers from ships at night.")))
    (folder / "2-tides.pdf").write_bytes(pdf_bytes("Tides rise twice a day. The moon pulls the sea toward it."))
    (folder / "3-notes.md").write_text("# Rivers\n\nRivers carve valleys.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    rows, projects = check_rows(service_rt, folder)
    assert [r.label for r in rows] == ["1-cranes.docx", "2-tides.pdf", "3-notes.md"]
    assert "containers" in projects[0].content and "moon pulls" in projects[1].content
    assert "| 1 |" not in projects[2].content and "Rivers carve valleys" in projects[2].content

    service_rt.settings.fetch_allow_private = True
    with pages({"/a.html": ("text/html", ARTICLE.encode())}) as base:
        batch = tmp_path / "rows.jsonl"
        batch.write_text(json.dumps({"url": f"{base}/a.html", "format": "9:16"}) + "\n"
                         + json.dumps({"url": "ftp://example.org/x"}) + "\n")
        with pytest.raises(InvalidInput, match="line 2: url must be an http"):
            check_rows(service_rt, batch)
        batch.write_text(json.dumps({"url": f"{base}/a.html", "format": "9:16"}) + "\n")
        _, made = check_rows(service_rt, batch)
    assert made[0].source_url == f"{base}/a.html" and "dampers" in made[0].content
