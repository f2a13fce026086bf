"""API bearer tokens: the admin token made on first start, lookups, roles; and identity."""

import hashlib
import hmac
import os
import secrets
import uuid
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.db import SessionMaker
from controlplane.server.models import ApiToken, Meta
from controlplane.server.services.errors import AlreadyExists, NotPermitted, Unauthenticated

ROLES = ("admin", "reader")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_sha256(token: str) -> str:
    """What is stored of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def write_secret(path: Path, text: str) -> None:
    """Write text to path, readable by the owner only (0600 from the first byte)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


async def create_token(session: AsyncSession, name: str, role: str) -> str:
    """A new random token with a role; only its hash is kept."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if (await session.exec(select(ApiToken).where(ApiToken.name == name))).first():
        raise AlreadyExists(f"a token named {name} exists", loc=["body", "name"])
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_sha256=token_sha256(token), role=role))
    await session.commit()
    return token


async def ensure_admin_token(sessions: SessionMaker, path: Path) -> bool:
    """On first start (no token at all) make the admin token and write it to path."""
    async with sessions() as session:
        if (await session.exec(select(ApiToken))).first() is not None:
            return False
        token = await create_token(session, "admin", "admin")
    write_secret(path, token + "\n")
    return True


async def ensure_identity(sessions: SessionMaker) -> str:
    """This control plane's id (the weft.owner label of everything it creates)."""
    async with sessions() as session:
        row = await session.get(Meta, "owner")
        if row is None:
            row = Meta(key="owner", value=f"weft-cp-{uuid.uuid4().hex[:12]}")
            session.add(row)
            await session.commit()
        return row.value


async def authenticate(session: AsyncSession, authorization: str | None) -> ApiToken:
    """The token named by an `Authorization: Bearer ...` header, or Unauthenticated."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    digest = token_sha256(token.strip())
    row = (await session.exec(select(ApiToken).where(ApiToken.token_sha256 == digest))).first()
    # The lookup is by hash; compare again in constant time for good measure.
    if row is None or not hmac.compare_digest(row.token_sha256, digest):
        raise Unauthenticated("unknown token")
    return row


def authorize(token: ApiToken, method: str) -> None:
    """Readers may read; only admins may write."""
    if method not in READ_METHODS and token.role != "admin":
        raise NotPermitted(f"token {token.name} ({token.role}) may not {method}")
