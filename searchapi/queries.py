"""The SQL behind /countries, /readyz and the bench's seed query; every value is bound."""

from typing import Any

from searchapi.errors import NotFound
from searchapi.pool import Pool, Row

_COUNTRY_COLS = "iso, iso3, name, capital, population, continent"


def _country(row: Row) -> dict[str, Any]:
    return dict(
        zip(("iso", "iso3", "name", "capital", "population", "continent"), row, strict=True)
    )


async def list_countries(pool: Pool) -> list[dict[str, Any]]:
    """Every country, by name."""
    rows = await pool.fetch(f"SELECT {_COUNTRY_COLS} FROM countries ORDER BY name")  # noqa: S608
    return [_country(r) for r in rows]


async def get_country(pool: Pool, code: str) -> dict[str, Any]:
    """One country by ISO code, with its number of cities."""
    rows = await pool.fetch(
        f"SELECT {_COUNTRY_COLS}, (SELECT COUNT(*) FROM cities WHERE country_code = iso)"  # noqa: S608
        " FROM countries WHERE iso = %s",
        (code.upper(),),
    )
    if not rows:
        raise NotFound(f"no country with ISO code {code.upper()!r}")
    country = _country(rows[0][:6])
    country["cities"] = int(rows[0][6])
    return country


async def load_status(pool: Pool) -> str | None:
    """The load_state status of the data being served ('loaded' when ready)."""
    rows = await pool.fetch("SELECT status FROM load_state WHERE id = 1")
    return str(rows[0][0]) if rows else None


async def seed_search(pool: Pool, q: str) -> list[Row]:
    """The seed's query, verbatim in spirit (a full scan; q's wildcards not escaped): bench only.

    The seed's MySQL compared with the default case-insensitive collation; weft's tables
    are binary, so the comparison names that collation to keep the seed's semantics.
    """
    return await pool.fetch(
        "SELECT countries.name, cities.name, cities.latitude, cities.longitude"
        " FROM cities JOIN countries ON cities.country_code = countries.iso"
        " WHERE cities.name COLLATE utf8mb4_general_ci LIKE %s ORDER BY 1,2",
        (f"%{q}%",),
    )
