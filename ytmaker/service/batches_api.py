"""/api/v1/batches: many videos in one request, checked whole, recorded, and never made twice (ytmaker.batches).

    POST /batches        BatchIn {name?, rows: [row, …]} -> 201 BatchOut (each row's project and action)
    GET  /batches/{id}   -> BatchOut with each row's live status and progress, and the summary

A row has the fields of a batch file's JSON Lines row except ``file`` (an HTTP caller names no file of this
machine). ``name`` makes a batch re-sendable: the same name and rows find the projects made before (done rows
are skipped, failed ones resumed); without it every request is a new batch. One bad row refuses the request
(422, every bad row's line in ``detail``) and nothing is created.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ytmaker import batches
from ytmaker.batch_file import BatchInvalid, rows_of
from ytmaker.errors import InvalidInput
from ytmaker.service.auth import Rt, Who

router = APIRouter(prefix="/api/v1/batches", tags=["batches"])
#: rows per request; a request takes one of the token's creation slots (YTMAKER_API_CREATE_LIMIT)
MAX_ROWS = 500


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100, pattern=r"^[\w .:-]+$",
                             description="send the same name again to resume this batch instead of making a new one")
    rows: list[dict] = Field(min_length=1, max_length=MAX_ROWS, description="text, title, language, format, voice, "
                                                                            "max_duration, publish, publish_at, captions")


class RowOut(BaseModel):
    line: int
    project_id: str
    action: str
    status: str
    progress: float
    title: str | None = None
    error: str | None = None
    waiting: str | None = None


class BatchOut(BaseModel):
    id: str
    progress: float
    ended: int
    summary: str
    rows: list[RowOut]


@router.post("", status_code=201, response_model=BatchOut)
async def create(body: BatchIn, request: Request, who: Who, rt: Rt) -> BatchOut:
    """Check every row, record the batch and start its rows (the workers, or this process's, make them)."""
    key = f"api:{who.token_id if who.token_id is not None else 'open'}:{body.name or uuid.uuid4()}"

    def make() -> BatchOut:  # one trip to the thread pool for the limit, the checks, the records and the sends
        request.app.state.limits.take(who)
        rows, errors = rows_of(list(enumerate(body.rows, start=1)), key, files=None)
        batch_id, planned = batches.plan_rows(rt, key, rows, errors, owner_token_id=who.token_id)
        batches.start(rt, planned)
        return _out(batch_id, batches.row_states(rt, planned))

    try:
        return await run_in_threadpool(make)
    except BatchInvalid as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/{batch_id}", response_model=BatchOut, responses={404: {"description": "no such batch (or another token's)"}})
def read(batch_id: str, who: Who, rt: Rt) -> BatchOut:
    """The batch's rows with their projects' live status and progress."""
    try:
        uuid.UUID(batch_id)
        record, states = batches.batch_rows(rt, batch_id)
    except (ValueError, InvalidInput):
        raise HTTPException(404, f"no batch with id {batch_id[:80]!r}") from None
    if not who.may_see(record.owner_token_id):
        raise HTTPException(404, f"no batch with id {batch_id[:80]!r}")
    return _out(record.id, states)


def _out(batch_id: str, states: list[batches.RowState]) -> BatchOut:
    ended = {"completed", "failed", "cancelled"}
    progress = sum(100.0 if s.status in ended else s.progress for s in states) / max(1, len(states))
    summary, _ = batches.summary(states)
    return BatchOut(id=batch_id, progress=round(progress, 1), ended=sum(1 for s in states if s.status in ended),
                    summary=summary, rows=[RowOut(line=s.line, project_id=s.project_id, action=s.action, status=s.status,
                                                  progress=s.progress, title=s.title, error=s.error, waiting=s.waiting)
                                           for s in states])
