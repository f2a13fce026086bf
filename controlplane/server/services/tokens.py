"""API tokens: made with a role, listed without their secret, revoked."""

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.auth import create_token
from controlplane.server.models import ApiToken, TokenCreate
from controlplane.server.services.crud import get_row, list_rows
from controlplane.server.services.errors import Conflict


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    """Every token, by id (only hashes are stored)."""
    return await list_rows(session, ApiToken)


async def issue_token(session: AsyncSession, data: TokenCreate) -> tuple[ApiToken, str]:
    """A new token with the role asked for, and its secret (shown this once)."""
    secret = await create_token(session, data.name, data.role)
    row = (await session.exec(select(ApiToken).where(ApiToken.name == data.name))).one()
    return row, secret


async def revoke_token(session: AsyncSession, token_id: int) -> ApiToken:
    """Delete a token; the last admin token stays, so the API cannot lock out its admins."""
    row = await get_row(session, ApiToken, token_id)
    if row.role == "admin":
        admins = await session.exec(select(ApiToken).where(ApiToken.role == "admin"))
        if len(list(admins)) == 1:
            raise Conflict(f"token {row.name} is the last admin token")
    await session.delete(row)
    await session.commit()
    return row
