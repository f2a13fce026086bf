"""The reads every resource service shares: one row by id, rows by id order.

A missing row is NotFound (404) when the path names it, and Invalid (422, naming
the field) when a request body refers to it.
"""

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.models import ApiToken, Container, Host, Link, Network
from controlplane.server.services.errors import Invalid, NotFound

T = TypeVar("T", Host, Network, Container, Link, ApiToken)

# How a missing row is named in "no <noun> <id>" (default: the class name, lower case).
NOUNS: dict[type, str] = {ApiToken: "token"}


async def get_row(
    session: AsyncSession, table: type[T], rid: int, loc: Sequence[str | int] | None = None
) -> T:
    """The row with id `rid`; NotFound, or Invalid at `loc` when a body field named it."""
    row = await session.get(table, rid)
    if row is None:
        detail = f"no {NOUNS.get(table, table.__name__.lower())} {rid}"
        raise NotFound(detail) if loc is None else Invalid(detail, loc=loc)
    return row


async def list_rows(
    session: AsyncSession, table: type[T], where: ColumnElement[bool] | None = None
) -> list[T]:
    """Rows by id, those matching `where` when given."""
    query = select(table).order_by(col(table.id))
    if where is not None:
        query = query.where(where)
    return list(await session.exec(query))


def on_host(
    table: type[Network] | type[Container], host_id: int | None
) -> ColumnElement[bool] | None:
    """The filter for rows of one host (None: all hosts)."""
    return col(table.host_id) == host_id if host_id is not None else None
