"""Response shapes, for the OpenAPI document (responses are built as plain JSON)."""

from pydantic import BaseModel, Field


class City(BaseModel):
    """One city in a /cities answer."""

    geonameid: int
    name: str
    asciiname: str
    country_code: str
    country: str | None
    latitude: float
    longitude: float
    population: int
    timezone: str
    distance_km: float | None = Field(None, description="Only with near: km from that point")
    edits: int | None = Field(None, description="Only when fuzzy applied: edits to the name")


class CitiesPage(BaseModel):
    """One page of matches and the exact total."""

    query: str
    total: int
    limit: int
    offset: int
    fuzzy: bool = Field(description="Whether typo-tolerant matching produced this answer")
    items: list[City]


class Country(BaseModel):
    """A country of the world database."""

    iso: str
    iso3: str
    name: str
    capital: str
    population: int
    continent: str
    cities: int | None = None


class Problem(BaseModel):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, object]] | None = None
