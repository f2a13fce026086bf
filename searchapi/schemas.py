"""Response shapes, for the OpenAPI document (responses are built as plain JSON)."""

from pydantic import BaseModel


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


class CitiesPage(BaseModel):
    """One page of matches and the exact total."""

    query: str
    total: int
    limit: int
    offset: int
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
