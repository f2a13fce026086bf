"""Shared pieces of the tables and API schemas: names, timestamps, statuses, typed JSON."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import JSON, Dialect, Enum
from sqlalchemy.types import TypeDecorator

from controlplane.contract.apitypes import NAME_PATTERN, HostStatus, Name, ResourceStatus

__all__ = [
    "NAME_PATTERN",
    "HostStatus",
    "Name",
    "ResourceStatus",
    "enum_column",
    "json_column",
    "utcnow",
]

M = TypeVar("M", bound=BaseModel)


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class PydanticJSON(TypeDecorator[M], Generic[M]):
    """A JSON column read and written as a pydantic model (the column stays JSON).

    Assign a new model to change it: an in-place change of a nested value is not
    seen by the session (the models stored this way are frozen for that reason).
    """

    impl = JSON
    cache_ok = True

    def __init__(self, model: type[M]) -> None:
        super().__init__()
        self.model = model

    def process_bind_param(self, value: M | None, dialect: Dialect) -> Any:
        """The model as JSON data."""
        return None if value is None else value.model_dump(mode="json")

    def process_result_value(self, value: Any, dialect: Dialect) -> M | None:
        """The stored JSON data as the model."""
        return None if value is None else self.model.model_validate(value)


def json_column(model: type[BaseModel]) -> PydanticJSON[Any]:
    """The column type of a model stored as JSON."""
    return PydanticJSON(model)


def enum_column(enum: type[StrEnum]) -> Enum:
    """A status column: the enum's values in a VARCHAR(16), as the migration made it."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )
