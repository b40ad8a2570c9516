"""API tokens: made once, shown once, stored as their SHA-256 only.

A token is 32 random bytes (``ytm_`` + URL-safe base64), so a plain SHA-256 is
enough to store it: there is nothing to brute-force that a slow hash would
protect, and a request is checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from ytmaker.db.models import ApiToken
from ytmaker.db.session import Database
from ytmaker.errors import InvalidInput

PREFIX = "ytm_"
#: how long a process trusts its answer to "is there any live token?" (asked by every request that sends none):
#: a token made or revoked by another process (the CLI) counts here within this; this process's own at once
TOKENS_FRESH_S = 1.0

_tokens = ApiToken.__table__
# Core statements built once: no ORM session or entity loading on the per-request path
_LIVE = select(_tokens.c.id).where(_tokens.c.revoked_at.is_(None)).limit(1)
_BY_HASH = select(_tokens.c.id, _tokens.c.admin, _tokens.c.name).where(_tokens.c.token_hash == bindparam("hash"),
                                                                      _tokens.c.revoked_at.is_(None))


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a token's id and whether it is an admin; ``token_id`` None: a server without tokens."""

    token_id: int | None
    admin: bool
    name: str = ""

    def may_see(self, owner_token_id: int | None) -> bool:
        return self.admin or (self.token_id is not None and owner_token_id == self.token_id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(db: Database, name: str, *, admin: bool = False) -> str:
    """A new token named ``name``; returns the token itself (only its hash is kept)."""
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise InvalidInput("a token name is 1-64 printable characters")
    token = PREFIX + secrets.token_urlsafe(32)
    try:
        with db.session() as session:
            session.add(ApiToken(name=name, token_hash=token_hash(token), admin=admin))
    except IntegrityError:
        raise InvalidInput(f"a token named {name!r} exists already; revoke it or choose another name") from None
    finally:
        _forget_answers()
    return token


def list_tokens(db: Database) -> list[ApiToken]:
    with db.single() as session:
        return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(db: Database, name: str) -> bool:
    """Refuse the token named ``name`` from now on; False if there is no such live token."""
    with db.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None)))
        if row is None:
            return False
        row.revoked_at = datetime.now(UTC)
    _forget_answers()
    return True


class _Answers:
    """Per database: (when, whether live tokens existed), and a generation that this process's changes bump, so an
    answer read while a token was being made or revoked here is not kept."""

    def __init__(self) -> None:
        self.by_db: weakref.WeakKeyDictionary[Database, tuple[float, bool]] = weakref.WeakKeyDictionary()
        self.generation = 0
        self.lock = threading.Lock()


_answers = _Answers()


def _forget_answers() -> None:
    with _answers.lock:
        _answers.generation += 1
        _answers.by_db.clear()  # every database: the CLI makes tokens through a Database of its own


def known_any_tokens(db: Database) -> bool | None:
    """``any_tokens`` without a database read: the answer if it is fresh, None if it must be read."""
    known = _answers.by_db.get(db)
    return known[1] if known is not None and time.monotonic() - known[0] < TOKENS_FRESH_S else None


def any_tokens(db: Database) -> bool:
    """Whether at least one live token exists (none: the server runs open, on loopback only); read at most once
    per TOKENS_FRESH_S per process."""
    known = known_any_tokens(db)
    if known is not None:
        return known
    generation, at = _answers.generation, time.monotonic()
    with db.reader() as connection:
        answer = connection.execute(_LIVE).first() is not None
    with _answers.lock:
        if generation == _answers.generation:
            _answers.by_db[db] = (at, answer)
    return answer


def authenticate(db: Database, token: str) -> Caller | None:
    """The caller a token stands for, or None for an unknown or revoked one (read every time: a revocation counts at once)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    with db.reader() as connection:
        row = connection.execute(_BY_HASH, {"hash": token_hash(token)}).first()
    return None if row is None else Caller(token_id=row.id, admin=row.admin, name=row.name)
