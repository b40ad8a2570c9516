"""The page as the server renders it: its language, what the CSP forbids absent, the token form, the shipped files."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import wait_until
from tests.service_support import service_rt  # noqa: F401  (fixture)
from ytmaker.graph import STAGES
from ytmaker.service.app import create_app
from ytmaker.service.page_text import PROGRESS, TEXT, choose_language
from ytmaker.service.tokens import create_token

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def client(service_rt):  # noqa: F811
    with TestClient(create_app(service_rt, worker=False)) as test_client:
        yield test_client


def page_data(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert block, "the page's words block is missing"
    return json.loads(block.group(1))


@pytest.mark.parametrize(("query", "cookie", "accept", "expected"), [
    (None, None, None, "en"),
    (None, None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    (None, None, "fr-FR, en;q=0.5, zh;q=0.7", "zh"),  # by weight, not by position
    (None, None, "de, fr;q=0.5", "en"),
    (None, "zh", "en-US", "zh"),
    ("en", "zh", "zh-CN", "en"),
    ("xx", None, "zh-TW;q=bad, zh;q=0.2", "zh"),
])
def test_the_language_is_the_switch_then_its_cookie_then_accept_language(query, cookie, accept, expected):
    assert choose_language(query, cookie, accept) == expected


def test_english_and_chinese_pages_carry_every_word_and_stage(client):
    english = client.get("/", headers={"Accept-Language": "en-US"})
    chinese = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})

    assert english.status_code == chinese.status_code == 200
    assert '<html lang="en">' in english.text and "Make the video" in english.text
    assert '<html lang="zh-Hans">' in chinese.text and "生成视频" in chinese.text and "项目列表" in chinese.text
    assert chinese.headers["content-language"] == "zh-Hans" and "Accept-Language" in chinese.headers["vary"]
    for html in (english.text, chinese.text):
        for stage in STAGES:
            assert f'data-stage="{stage}"' in html
    assert page_data(chinese.text)["words"]["status_completed"] == "已完成"
    assert set(TEXT["en"]) == set(TEXT["zh"])  # no word missing in either language


def test_the_switch_sets_a_cookie_that_later_visits_keep(client):
    switched = client.get("/?lang=zh", headers={"Accept-Language": "en"})
    later = client.get("/", headers={"Accept-Language": "en"})

    assert switched.cookies.get("ytmaker_lang") == "zh"
    assert '<html lang="zh-Hans">' in later.text


def test_nothing_inline_that_the_csp_forbids(client):
    response = client.get("/")
    html = response.text

    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, "no script tags at all"
    for attributes, body in scripts:
        # a script either loads a file from this server or is a JSON data block (never executed)
        assert ('src="/static/' in attributes and not body.strip()) or 'type="application/json"' in attributes
    assert not re.search(r"\son[a-z]+\s*=", html), "an inline event handler"
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html, "an inline style"


def test_text_in_the_words_block_cannot_close_it(client):
    data = page_data(client.get("/?lang=zh").text)
    assert data["stages"] == list(STAGES) and data["lang"] == "zh"
    from ytmaker.service.page import _json_block

    assert "</script>" not in str(_json_block({"x": "</script><script>alert(1)</script>"}))


def test_the_static_files_are_served_and_shipped_in_the_wheel(client):
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"], name
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["ytmaker"]
    assert {"service/templates/*.html", "service/static/*"} <= set(package_data)


def test_a_server_with_tokens_asks_for_one_and_a_good_one_opens_the_page(client, service_rt):  # noqa: F811
    token = create_token(service_rt.db, "page-test")

    asked = client.get("/")
    refused = client.post("/api/v1/session", json={"token": "ytm_not-a-token"})
    signed = client.post("/api/v1/session", json={"token": token})
    opened = client.get("/")

    assert 'data-access="token"' in asked.text and 'id="token-form"' in asked.text
    assert 'class="columns" hidden id="app"' in asked.text  # the form and list wait for the token
    assert refused.status_code == 401
    assert signed.status_code == 200 and "httponly" in signed.headers["set-cookie"].lower()
    assert 'data-access="signed-in"' in opened.text and 'id="token-form"' not in opened.text and 'id="sign-out"' in opened.text
    assert token not in opened.text  # the token never comes back in the page


def test_a_public_server_without_tokens_says_how_to_make_one(service_rt):  # noqa: F811
    with TestClient(create_app(service_rt, worker=False, public=True)) as public_client:
        html = public_client.get("/").text
    assert 'data-access="public-none"' in html and "ytmaker token create NAME" in html


def _chinese(message: str, *, values: bool = True) -> str | None:
    """``message`` as the Chinese page shows it: app.js's progressWords, with Python's spelling of named groups
    (``values=False``: without what is quoted as it was written: a failure's reason, a URL, a model, a target)."""
    for pattern, words in PROGRESS["zh"]:
        found = re.match(pattern.replace("(?<", "(?P<"), message)
        if found:
            return re.sub(r"\{(\w+)\}", lambda m, g=found.groupdict(): _group(g, m[1], values), words)
    return None


def _group(groups: dict[str, str], name: str, values: bool) -> str:
    if name == "stage":
        return TEXT["zh"][f"stage_{groups['stage']}"]
    return "" if name in ("why", "url", "model", "where") and not values else groups[name]


def test_the_chinese_page_words_every_progress_message_a_project_writes(service_rt):  # noqa: F811
    written: list[str] = []
    update = service_rt.progress.update

    def spy(project_id, **fields):
        if fields.get("message"):
            written.append(str(fields["message"]))
        return update(project_id, **fields)

    service_rt.progress.update = spy
    with TestClient(create_app(service_rt)) as client:
        made = client.post("/api/v1/projects", json={"text": "Bees dance to show the way. Scouts follow the dance."})
        assert made.status_code == 201
        wait_until(lambda: client.get(made.json()["links"]["self"]).json()["status"] == "completed", 60, "the project")
    # the ones a plain run does not write: a retry, an outage
    written += ["render: attempt 1 failed (FFmpeg exited with 1); retrying in 2.0 s", "images: a part failed (HTTP 503); "
                "retrying in 0.5 s", "waiting for the database", "waiting for Redis",
                "upload: waiting (today's YouTube upload budget is spent); going on at 2026-12-03 08:00 UTC"]
    assert len(set(written)) >= 10, written
    for message in set(written):
        shown = _chinese(message, values=False)
        assert shown is not None, f"no Chinese words for {message!r}"
        latin = re.sub(r"Redis|D-ID|UTC|\d|[^\w]", "", shown)
        assert not re.search(r"[A-Za-z]{3,}", latin), f"{message!r} is shown as {shown!r}"
    assert _chinese("narration 2 of 5") == "配音 2/5" and _chinese("render started") == "渲染：开始"
    assert _chinese(written[-5]) == "渲染：第 1 次尝试失败（FFmpeg exited with 1），2.0 秒后重试"
