"""The page in a real browser: headless Chromium (Debian's package) driven by Playwright, against a live server.

A project made through the page shows its stage bars moving live and reaching 100 %, then plays in the page; a
second one is cancelled and retried with the page's buttons. The server runs embedded (in-process worker) on instant
pictures, espeak-ng narration and tiny renders, so a video is a few seconds of real H.264 the browser can play.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, fast_settings
from tests.helpers import SHORT_TEXT, TWO_SEGMENT_TEXT, wait_until
from tests.service_support import live_server
from ytmaker.db.migrate import upgrade
from ytmaker.runtime import build_runtime, set_runtime
from ytmaker.service.app import create_app

CHROMIUM = Path(os.environ.get("YTMAKER_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--autoplay-policy=no-user-gesture-required"]
#: generous: a loaded CI machine renders slowly; each wait ends as soon as its condition holds
DEADLINE_MS = 120_000

#: records every value the overall bar's figure takes, so the test can see the bars move live (not only the end)
WATCH_BARS = """() => {
  window.seenOverall = [];
  new MutationObserver(() => window.seenOverall.push(document.getElementById('pct-overall').textContent))
    .observe(document.getElementById('pct-overall'), {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(tmp_path, stub_broker):
    # each picture takes a moment, so the second project can be caught running and cancelled
    settings = fast_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'page.db'}", image_provider="instant",
                             instant_image_delay_s=0.8, render_quality="tiny", api_heartbeat_s=1)
    runtime = build_runtime(settings, broker=stub_broker)
    upgrade(runtime.db)
    set_runtime(runtime)
    try:
        with live_server(create_app(runtime)) as base:
            yield base
    finally:
        set_runtime(None)
        runtime.close()


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser, request):
    viewport = getattr(request, "param", {"width": 1280, "height": 900})
    context = browser.new_context(viewport=viewport, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(DEADLINE_MS)
    tab.problems = []
    tab.on("console", lambda message: tab.problems.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: tab.problems.append(str(error)))
    yield tab
    context.close()


def until(page, script: str, what: str):
    """Wait until ``script`` is truthy in the page (polled through page.evaluate: the page's CSP forbids
    wait_for_function's eval, which is as it should be)."""
    return wait_until(lambda: page.evaluate(script), DEADLINE_MS / 1000, what, interval_s=0.1)


def ends_completed(page) -> None:
    """Wait for the open project's end; fail at once, with the reason the page shows, if it did not complete."""
    page.wait_for_selector("#p-status[data-status=completed], #p-status[data-status=failed], "
                           "#p-status[data-status=cancelled]")
    status = page.get_attribute("#p-status", "data-status")
    if status != "completed":
        page.wait_for_selector("#p-failure:not([hidden])")
    assert status == "completed", page.text_content("#p-error")


def bars(page) -> dict[str, str]:
    return page.eval_on_selector_all("#project .bar[data-stage]", "bars => Object.fromEntries(bars.map("
                                     "b => [b.dataset.stage, b.classList.contains('skipped') ? 'skipped' : b.dataset.value]))")


def test_a_project_made_in_the_page_moves_live_to_100_and_plays(site, page):
    page.goto(site + "/")
    page.evaluate(WATCH_BARS)
    page.fill("#text", SHORT_TEXT)
    page.fill("#title", "Honeybees")
    page.select_option("#captions", "sentences")
    page.click("#submit")

    ends_completed(page)
    assert page.text_content("#p-title") == "Honeybees"
    assert page.text_content("#pct-overall") == "100 %"
    assert set(bars(page).values()) <= {"100", "skipped"} and list(bars(page).values()).count("100") >= 6, bars(page)
    seen = page.evaluate("window.seenOverall")
    assert any(figure not in ("0 %", "100 %") for figure in seen), f"the bars never moved before the end: {seen}"

    # the video plays in the page; the thumbnail and the downloads come from the API
    page.wait_for_selector("#player[src]", state="attached")
    page.evaluate("() => { const v = document.getElementById('player'); v.muted = true; return v.play(); }")
    until(page, "document.getElementById('player').currentTime >= 1", "the video to play its first second")
    until(page, "document.getElementById('thumb').complete && document.getElementById('thumb').naturalWidth > 0",
          "the thumbnail to load")
    project_id = page.evaluate("new URL(location.href).searchParams.get('project')")
    assert page.get_attribute("#dl-video", "href") == f"/api/v1/projects/{project_id}/video"
    assert page.get_attribute("#dl-srt", "href") == f"/api/v1/projects/{project_id}/subtitles.srt"
    assert page.is_visible("#dl-vtt")

    # the list follows every project live: one made elsewhere (here: with the API) appears and finishes in it
    assert page.text_content("#projects .row .badge") == "Done"
    other = httpx.post(site + "/api/v1/projects", json={"text": SHORT_TEXT, "title": "From the API"}).json()["id"]
    page.wait_for_selector("#projects .row[data-status=completed] >> text=From the API")
    assert page.evaluate("new URL(location.href).searchParams.get('project')") == project_id != other

    # the page speaks Chinese after the switch, with the open project kept
    page.click("nav.langs a[hreflang=zh]")
    page.wait_for_selector("#projects .row .badge[data-status=completed]")
    assert page.text_content("#projects .row.current .badge") == "已完成"
    assert page.text_content("#p-title") == "Honeybees" and page.get_attribute("html", "lang") == "zh-Hans"
    assert page.problems == []


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_a_file_on_a_phone_cancelled_and_retried_with_the_pages_buttons(site, page):
    page.goto(site + "/")
    page.fill("#text", "")
    page.click("#submit")
    page.wait_for_selector("#form-error:not([hidden])")
    assert "empty" in page.text_content("#form-error")  # the API's reason, in words
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone

    # a chosen file is sent as an upload (the server decodes and checks it as the CLI does)
    page.set_input_files("#file", files=[{"name": "bees.txt", "mimeType": "text/plain", "buffer": TWO_SEGMENT_TEXT.encode()}])
    until(page, f"document.getElementById('text').value === {json.dumps(TWO_SEGMENT_TEXT)}", "the file's text in the form")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/projects") and r.method == "POST") as sent:
        page.click("#submit")
    assert "multipart/form-data" in sent.value.headers["content-type"]
    page.wait_for_selector("#p-status[data-status=assets_generating]")
    page.click("#cancel")
    page.wait_for_selector("#p-status[data-status=cancelled]")
    page.wait_for_selector("#p-failure:not([hidden])")  # the reason comes with the record, just after the status
    assert "cancelled by request" in page.text_content("#p-error")
    assert page.is_visible("#retry") and not page.is_visible("#cancel")

    page.click("#retry")
    page.wait_for_selector("#p-status:not([data-status=cancelled])")
    ends_completed(page)
    assert not page.is_visible("#p-failure") and page.text_content("#pct-overall") == "100 %"
    assert page.text_content("#projects .row.current .badge") == "Done"
    assert page.text_content("#p-title") == "Honeybees talk by dancing"  # none given: the script's
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert [p for p in page.problems if "422" not in p] == []  # the refused empty text is the one expected error
