"""The web page at ``/``: one server-rendered template (Jinja2), its words in the reader's language, live from the JSON API.

The page holds no data of its own: ``static/app.js`` (plain JavaScript, no
build step) creates projects with ``POST /api/v1/projects``, follows the open
one with its SSE stream (``/api/v1/projects/{id}/events``) and the list with
the all-projects stream (``/api/v1/events``), and acts through the API's cancel,
retry and delete. The words reach the script as a JSON data block, and
nothing on the page is inline script or style, so the API's CSP can forbid both.
With tokens configured the page shows a token form that posts to
``/api/v1/session`` (an HttpOnly cookie), so a token never goes into a URL.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from ytmaker.graph import STAGES
from ytmaker.service.page_text import COOKIE, LANGUAGES, PROGRESS, TEXT, choose_language

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

#: languages offered in the form besides detection (espeak-ng voices them all); the API takes any code espeak-ng knows
TEXT_LANGUAGES = {"en": "English", "zh": "中文", "ja": "日本語", "ko": "한국어", "fr": "Français", "de": "Deutsch",
                  "es": "Español", "pt": "Português", "it": "Italiano", "ru": "Русский"}
FORMATS = ("16:9", "9:16")
CAPTIONS = ("auto", "words", "sentences", "off")


def access(request: Request) -> str:
    """``open`` (no token needed), ``signed-in`` (the cookie's token is good), ``token`` (ask for one) or ``public-none``.

    ``public-none``: the server listens beyond loopback and no token exists yet, so nobody can use it until one is made.
    """
    from ytmaker.service.auth import COOKIE as TOKEN_COOKIE
    from ytmaker.service.tokens import any_tokens, authenticate

    rt = request.app.state.rt
    if not any_tokens(rt.db):
        return "public-none" if getattr(request.app.state, "public", False) else "open"
    token = request.cookies.get(TOKEN_COOKIE)
    return "signed-in" if token and authenticate(rt.db, token) is not None else "token"


def _json_block(value: object) -> Markup:
    """JSON safe inside a ``<script type="application/json">`` data block (never executed, so the CSP allows it)."""
    text = json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, lang: str | None = Query(default=None, max_length=8)) -> HTMLResponse:
    """The page: the form, the open project's stages, the projects list."""
    language = choose_language(lang, request.cookies.get(COOKIE), request.headers.get("accept-language"))
    text = TEXT[language]
    state = await run_in_threadpool(access, request)
    words = {key: value for key, value in text.items() if key.startswith(("status_", "stage_"))}
    words.update({key: text[key] for key in ("untitled", "sending", "submit", "failed_because", "failed_at", "cancel",
                                             "retry", "delete", "open", "live", "reconnecting", "token_refused", "error",
                                             "no_projects", "overall", "file_chosen")})
    response = templates.TemplateResponse(request, "index.html", {
        "t": text, "lang": language, "languages": LANGUAGES, "text_languages": TEXT_LANGUAGES, "formats": FORMATS,
        "captions": CAPTIONS, "stages": list(STAGES), "access": state,
        "words": _json_block({"lang": language, "words": words, "stages": list(STAGES),
                              "progress": PROGRESS.get(language, [])}),
    })
    response.headers["Content-Language"] = text["html_lang"]
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Cache-Control"] = "no-store"
    if lang in TEXT:
        response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
