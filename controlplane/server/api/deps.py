"""Shared dependencies: app state, a session per request, the caller's token."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.agents import Agents
from controlplane.server.auth import authenticate, authorize
from controlplane.server.db import SessionMaker
from controlplane.server.models import ApiToken
from controlplane.server.reconcile.supervisor import Reconcilers
from controlplane.server.services.events import EventBus, Recorder
from controlplane.server.settings import Settings


@dataclass
class AppState:
    """Everything the lifespan creates and the routes use."""

    settings: Settings
    sessions: SessionMaker
    owner: str
    agents: Agents
    bus: EventBus
    events: Recorder
    reconcilers: Reconcilers


def get_state(request: Request) -> AppState:
    """The app's state."""
    state: AppState = request.app.state.weft
    return state


State = Annotated[AppState, Depends(get_state)]


async def get_session(state: State) -> AsyncIterator[AsyncSession]:
    """One session per request."""
    async with state.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


async def caller(
    request: Request,
    session: Session,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ApiToken:
    """The caller's token; writes need the admin role."""
    token = await authenticate(session, authorization)
    authorize(token, request.method)
    return token


Caller = Annotated[ApiToken, Depends(caller)]
