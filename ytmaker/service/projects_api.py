"""/api/v1/projects: create (JSON or a file upload), list, read, cancel, retry, delete, and the recorded files.

Shapes (``ytmaker.service.schemas``; the OpenAPI schema at /docs is authoritative):

    POST   /projects                 ProjectIn (JSON: text or url) or multipart (file + the same fields) -> 201 Created
    GET    /projects?status=&cursor=&limit=   -> ProjectPage {items: [ProjectSummary], next_cursor}
    GET    /projects/{id}            -> ProjectOut (stages with attempts and error, live progress, outputs, links)
    POST   /projects/{id}/cancel     -> ProjectOut        POST /projects/{id}/retry -> ProjectOut
    DELETE /projects/{id}            -> 204 (a completed, failed or cancelled project and its files)
    GET    /projects/{id}/video | /thumbnail | /subtitles.srt | /subtitles.vtt   (Range supported)

Errors are {"detail": reason}: 401 no or bad token, 404 no such project (or another token's), 409 not
finished (delete), 413 body or text too large, 422 invalid input, 429 too many creations (Retry-After).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError
from pydantic_core import to_json

from ytmaker.config import Settings
from ytmaker.errors import ProviderUnavailable
from ytmaker.pipelines.control import cancel_project, retry_project
from ytmaker.projects import ProjectOptions, create_project
from ytmaker.providers.own_media import take_uploads, upload_names
from ytmaker.providers.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from ytmaker.runtime import Runtime
from ytmaker.service import queries, schemas
from ytmaker.service.auth import Rt, Who, caller
from ytmaker.service.tokens import Caller
from ytmaker.sources import Source
from ytmaker.sources.reading import read_given
from ytmaker.statuses import ProjectStatus

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])

_MULTIPART_FIELDS = set(schemas.ProjectIn.model_fields) - {"text"}
_CREATE_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": schemas.ProjectIn.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary", "description": "a text, Markdown, HTML, PDF or .docx file"},
        "media": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "your own images and clips for the segments (as `ytmaker make --media`)"},
        **{name: {"type": "string"} for name in sorted(_MULTIPART_FIELDS)}}}},
}}}
_MEDIA = {"video": "video/mp4", "thumbnail": "image/jpeg", "subtitles.srt": "application/x-subrip",
          "subtitles.vtt": "text/vtt"}


class CreationLimits:
    """Project creations per token: at most ``limit`` per ``window_s``, shared by the API processes through Redis."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def take(self, caller: Caller) -> None:
        """Take a slot for the caller, or HTTPException 429 with Retry-After."""
        name = f"api-create:{caller.token_id if caller.token_id is not None else 'open'}"
        with self._lock:
            limiter = self._limiters.get(name)
            if limiter is None:
                settings = self.rt.settings
                common = dict(name=name, limit=settings.api_create_limit, window_s=settings.api_create_window_s,
                              max_wait_s=0.0)
                limiter = (RedisRateLimiter(self.rt.redis, **common) if self.rt.redis is not None  # type: ignore[arg-type]
                           else MemoryRateLimiter(**common))  # type: ignore[arg-type]
                self._limiters[name] = limiter
        try:
            limiter.acquire()
        except ProviderUnavailable as exc:
            wait_s = max(1, round(exc.retry_after or 1))
            raise HTTPException(429, f"too many projects created: at most {self.rt.settings.api_create_limit} per "
                                     f"{self.rt.settings.api_create_window_s:g} s per token; try again in {wait_s} s",
                                headers={"Retry-After": str(wait_s)}) from None


@dataclass(frozen=True)
class _Given:
    """What the request carries to narrate: a text, a file's bytes (with its name and type) or a URL."""

    raw: bytes | str = ""
    name: str | None = None
    media_type: str | None = None
    url: str | None = None
    media: tuple[tuple[str, bytes], ...] = ()  # a person's own images and clips for the segments (name, content)

    def source(self, settings: Settings) -> Source:  # blocking (a fetch, a PDF): called in the thread pool
        return read_given(self.raw, settings, url=self.url, name=self.name, media_type=self.media_type)


def _kind(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _from_form(request: Request) -> tuple[schemas.ProjectIn, _Given]:
    """A multipart body as ProjectIn plus what to narrate (checked by ytmaker.sources and create_project, as the CLI's is)."""
    form = await request.form()
    unknown = set(form.keys()) - _MULTIPART_FIELDS - {"file", "text", "media"}
    if unknown:
        raise HTTPException(422, f"unknown field(s): {', '.join(sorted(unknown))}")
    upload = form.get("file")
    fields = {k: v for k, v in form.items() if k in _MULTIPART_FIELDS and isinstance(v, str) and v != ""}
    media = tuple([(item.filename or "", await item.read()) for item in form.getlist("media") if not isinstance(item, str)])
    given: _Given
    if upload is not None and not isinstance(upload, str):
        given = _Given(await upload.read(), name=upload.filename, media_type=upload.content_type, media=media)
    elif isinstance(form.get("text"), str):
        given = _Given(str(form.get("text")), media=media)
    elif "url" in fields:
        given = _Given(url=str(fields["url"]), media=media)
    else:
        raise HTTPException(422, "give the text as a file upload (field 'file'), a 'text' field or a 'url' field")
    try:
        return schemas.ProjectIn.model_validate({**fields, "text": ""}), given
    except ValidationError as exc:
        raise HTTPException(422, _reason(exc)) from None


def _from_json(kind: str, raw: bytes) -> tuple[schemas.ProjectIn, _Given]:
    """Any other body: JSON, as ProjectIn plus what to narrate."""
    if kind != "application/json":
        raise HTTPException(415, "send application/json (or multipart/form-data with a file)")
    try:
        body = schemas.ProjectIn.model_validate_json(raw)
    except ValidationError as exc:
        raise HTTPException(422, _reason(exc)) from None
    if body.text and body.url:  # neither: the empty text's own reason
        raise HTTPException(422, "give either text or url, not both")
    return body, _Given(body.text, url=body.url)


def _reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ())) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def _options(body: schemas.ProjectIn) -> ProjectOptions:
    return ProjectOptions(title=body.title, language=body.language, video_format=body.format, voice=body.voice,
                          publish_target=body.publish, max_duration_s=body.max_duration, captions=body.captions,
                          publish_at=body.publish_at)


@router.post("", status_code=201, response_model=schemas.Created, openapi_extra=_CREATE_BODY,
             responses={413: {"model": schemas.Error}, 422: {"model": schemas.Error}, 429: {"model": schemas.Error}})
async def create(request: Request) -> JSONResponse:
    """Create a project from a text and start making its video (checked as `ytmaker make` checks it)."""
    # No Who or Rt dependency: each sync one is a trip to the thread pool of its own; the caller is known
    # in the same trip as the rest, before any reason about the body (an upload is read only for a known caller).
    rt: Runtime = request.app.state.rt
    kind = _kind(request)
    known, parsed, raw = None, None, b""
    if kind == "multipart/form-data":
        known = await run_in_threadpool(caller, request)
        parsed = await _from_form(request)
    elif kind == "application/json":
        raw = await request.body()  # at most YTMAKER_API_MAX_BODY_BYTES (BodyLimit)

    def make() -> str:  # one trip to the thread pool for the caller, the limit, the checks, the records and the send
        who = known or caller(request)
        body, given = parsed or _from_json(kind, raw)
        request.app.state.limits.take(who)
        upload_names([name for name, _ in given.media])  # refused before a project exists
        source = given.source(rt.settings)  # a URL is fetched only for a caller within its limit

        def take_media(project_id: str) -> None:  # in its folder before the project is stored, so before any stage runs
            take_uploads(list(given.media), rt.project_dir(project_id) / "media")

        return create_project(rt, source.text, replace(_options(body), source_url=source.url), owner_token_id=who.token_id,
                              start=True, before_store=take_media if given.media else None).id

    project_id = await run_in_threadpool(make)
    links = queries.links(project_id)
    return JSONResponse({"id": project_id, "status": ProjectStatus.QUEUED, "links": links}, status_code=201,
                        headers={"Location": links["self"]})


def _json(body: dict[str, Any]) -> Response:
    """``body`` as FastAPI's JSONResponse would send it (compact, UTF-8; datetimes as pydantic writes them), without
    FastAPI's validation and serialization through the response model (most of a polled read's CPU). The routes keep
    their response_model for the OpenAPI schema; tests check the bodies against it."""
    return Response(to_json(body), media_type="application/json")


# The polled reads: async routes without sync dependencies (each of those is a thread-pool trip of its own, contending
# with the event streams for the GIL). The detail checks the token in the same trip as its reads; the list takes its
# caller as a dependency so that a refusal still comes before any reason about the query (``Who`` answers a request
# without a token on the loop).
@router.get("", response_model=schemas.ProjectPage, responses={401: {"model": schemas.Error}})
async def list_(request: Request, who: Who, status: str | None = None,
                cursor: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Response:
    """The caller's projects (an admin's: all), newest first."""
    rt: Runtime = request.app.state.rt
    return _json(await run_in_threadpool(lambda: queries.page(rt, who, status=status, cursor=cursor, limit=limit)))


@router.get("/{project_id}", response_model=schemas.ProjectOut,
            responses={401: {"model": schemas.Error}, 404: {"model": schemas.Error}})
async def read(project_id: str, request: Request) -> Response:
    """Status, each stage with its attempts and error, live progress and outputs."""
    rt: Runtime = request.app.state.rt
    return _json(await run_in_threadpool(lambda: queries.project_out(rt, caller(request), project_id)))


@router.post("/{project_id}/cancel", response_model=schemas.ProjectOut, responses={404: {"model": schemas.Error}})
def cancel(project_id: str, who: Who, rt: Rt) -> Response:
    """Cancel: queued stages won't run, running ones stop. A finished project is left as it is."""
    project = queries.owned_project(rt, who, project_id)
    cancel_project(rt, project.id)
    return _json(queries.project_out(rt, who, project.id))


@router.post("/{project_id}/retry", response_model=schemas.ProjectOut,
             responses={404: {"model": schemas.Error}, 422: {"model": schemas.Error}})
def retry(project_id: str, who: Who, rt: Rt) -> Response:
    """Resume a failed or cancelled project at the stage that did not finish; finished stages are kept."""
    project = queries.owned_project(rt, who, project_id)
    if not ProjectStatus(project.status).terminal:
        raise HTTPException(409, f"project {project.id} is still {project.status}; only a failed or cancelled one is retried")
    retry_project(rt, project.id)
    return _json(queries.project_out(rt, who, project.id))


@router.delete("/{project_id}", status_code=204, responses={404: {"model": schemas.Error}, 409: {"model": schemas.Error}})
def delete(project_id: str, who: Who, rt: Rt) -> Response:
    """Delete a completed, failed or cancelled project and its files."""
    project = queries.owned_project(rt, who, project_id)
    if not ProjectStatus(project.status).terminal:
        raise HTTPException(409, f"project {project.id} is {project.status}; cancel it first, then delete it")
    queries.delete_project(rt, project)
    return Response(status_code=204)


def _file(name: str):
    def serve(project_id: str, who: Who, rt: Rt) -> FileResponse:
        project = queries.owned_project(rt, who, project_id)
        path = queries.recorded_file(rt, project.id, name)
        if path is None:
            raise HTTPException(404, f"project {project.id} has no {name} (yet)")
        return FileResponse(path, media_type=_MEDIA[name], filename=f"{project.id}-{path.name}",
                            content_disposition_type="inline")

    serve.__name__ = "file_" + name.replace(".", "_")
    serve.__doc__ = f"The project's {name}, as recorded by its stages (Range requests supported)."
    return serve


for _name in _MEDIA:
    router.add_api_route(f"/{{project_id}}/{_name}", _file(_name), methods=["GET"], response_class=FileResponse,
                         responses={404: {"model": schemas.Error}})
