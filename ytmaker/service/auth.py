"""Who is asking: the bearer token or the ``ytmaker_token`` cookie, checked on every request.

With no live token at all the server is open, but ``ytmaker serve`` binds it
to loopback only; a server started on another address refuses every request
until a token exists. Tokens are never logged or echoed: a refusal says what
is missing, not what was sent.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ytmaker.runtime import Runtime
from ytmaker.service.tokens import Caller, any_tokens, authenticate, known_any_tokens

COOKIE = "ytmaker_token"
#: the caller of a server without tokens (loopback only): sees everything, owns what it creates as nobody
OPEN = Caller(token_id=None, admin=True, name="")

router = APIRouter(prefix="/api/v1", tags=["session"])


async def runtime(request: Request) -> Runtime:  # async: a sync dependency is a trip to the thread pool of its own
    rt: Runtime = request.app.state.rt
    return rt


Rt = Annotated[Runtime, Depends(runtime)]


def presented_token(authorization: str | None, cookie: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise HTTPException(401, "Authorization must be 'Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
        return value.strip()
    return cookie or None


def identify(rt: Runtime, *, public: bool, authorization: str | None, cookie: str | None) -> Caller:
    """The caller of a request (HTTP or WebSocket), or HTTPException 401 saying what is missing."""
    token = presented_token(authorization, cookie)
    if token is not None:
        caller = authenticate(rt.db, token)
        if caller is None:
            raise HTTPException(401, "unknown or revoked API token", headers={"WWW-Authenticate": "Bearer"})
        return caller
    return _without_token(tokens_exist=any_tokens(rt.db), public=public)


def _without_token(*, tokens_exist: bool, public: bool) -> Caller:
    if tokens_exist:
        raise HTTPException(401, "this server needs an API token: send 'Authorization: Bearer <token>' "
                                 "(`ytmaker token create NAME` makes one)", headers={"WWW-Authenticate": "Bearer"})
    if public:
        raise HTTPException(401, "no API token is configured, and this server listens beyond loopback: "
                                 "create one with `ytmaker token create NAME`", headers={"WWW-Authenticate": "Bearer"})
    return OPEN


def caller(request: Request) -> Caller:
    """The request's caller; blocking (a database read): call it in the thread pool, with the route's own work."""
    return identify(request.app.state.rt, public=request.app.state.public,
                    authorization=request.headers.get("authorization"), cookie=request.cookies.get(COOKIE))


async def _caller(request: Request) -> Caller:
    """FastAPI dependency: the caller, on the event loop when that needs no read (no token sent, and whether any
    token exists is fresh in this process: ytmaker.service.tokens.TOKENS_FRESH_S), else in the thread pool."""
    if presented_token(request.headers.get("authorization"), request.cookies.get(COOKIE)) is None:
        tokens_exist = known_any_tokens(request.app.state.rt.db)
        if tokens_exist is not None:
            return _without_token(tokens_exist=tokens_exist, public=request.app.state.public)
    return await run_in_threadpool(caller, request)


Who = Annotated[Caller, Depends(_caller)]


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    name: str
    admin: bool


@router.post("/session", response_model=SessionOut)
def open_session(body: SessionIn, request: Request, response: Response, rt: Rt) -> SessionOut:
    """Check a token and keep it in an HttpOnly, SameSite=Strict cookie, for the page and its EventSource."""
    found = authenticate(rt.db, body.token)
    if found is None:
        raise HTTPException(401, "unknown or revoked API token")
    response.set_cookie(COOKIE, body.token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=30 * 24 * 3600)
    return SessionOut(name=found.name, admin=found.admin)


@router.delete("/session", status_code=204)
def close_session(response: Response) -> Response:
    """Forget the cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    response.status_code = 204
    return response


def same_origin(origin: str | None, host: str | None) -> bool:
    """A browser's WebSocket handshake from this server's own page (no Origin: not a browser)."""
    if not origin:
        return True
    return bool(host) and hmac.compare_digest(origin.split("://", 1)[-1].rstrip("/"), host or "")
