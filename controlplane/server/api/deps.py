"""Shared dependencies: the runtime, a session per request, the caller's token."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.auth import authenticate, authorize
from controlplane.server.models import ApiToken
from controlplane.server.services.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """What the lifespan created (settings, sessions, agents, events, reconcilers)."""
    rt: Runtime = request.app.state.weft
    return rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(rt: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request."""
    async with rt.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def caller(
    request: Request,
    session: SessionDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ApiToken:
    """The caller's token; writes need the admin role."""
    token = await authenticate(session, authorization)
    authorize(token, request.method)
    return token


Caller = Annotated[ApiToken, Depends(caller)]
