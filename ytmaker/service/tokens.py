"""API tokens: made once, shown once, stored as their SHA-256 only.

A token is 32 random bytes (``ytm_`` + URL-safe base64), so a plain SHA-256 is
enough to store it: there is nothing to brute-force that a slow hash would
protect, and a request is checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ytmaker.db.models import ApiToken
from ytmaker.db.session import Database
from ytmaker.errors import InvalidInput

PREFIX = "ytm_"


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
    return True


def any_tokens(db: Database) -> bool:
    """Whether at least one live token exists (none: the server runs open, on loopback only)."""
    with db.single() as session:
        return session.scalar(select(ApiToken.id).where(ApiToken.revoked_at.is_(None)).limit(1)) is not None


def authenticate(db: Database, token: str) -> Caller | None:
    """The caller a token stands for, or None for an unknown or revoked one."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    with db.single() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token),
                                                    ApiToken.revoked_at.is_(None)))
    return None if row is None else Caller(token_id=row.id, admin=row.admin, name=row.name)
