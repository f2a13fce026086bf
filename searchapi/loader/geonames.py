"""The official GeoNames dump formats: countryInfo.txt and cities*/allCountries (.txt/.zip).

Both are UTF-8, tab-separated, one record per line; countryInfo.txt has '#'
comment lines. Files are read as a stream, line by line, so allCountries
(gigabytes) never sits in memory.
"""

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from searchapi.loader import fields
from searchapi.loader.records import City, Country, Problems

COUNTRY_COLUMNS = 19  # ISO .. EquivalentFipsCode
CITY_COLUMNS = 19  # geonameid .. modification date
# Only populated places are cities; the citiesNNN files hold nothing else, and
# allCountries also holds mountains, rivers, ... which the loader skips.
POPULATED = "P"


@contextmanager
def _open(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """The binary stream of `path`, or of the data file inside a .zip; plus its display name."""
    if path.suffix.lower() != ".zip":
        with path.open("rb") as stream:
            yield path.name, stream
        return
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist() if n.endswith(".txt") and "readme" not in n]
        preferred = f"{path.stem}.txt"
        if not members:
            raise FileNotFoundError(f"{path.name}: no .txt data file inside")
        member = preferred if preferred in members else members[0]
        with archive.open(member) as stream:
            yield f"{path.name}/{member}", stream


def _lines(name: str, stream: IO[bytes], problems: Problems) -> Iterator[tuple[str, list[str]]]:
    """(`file:line`, columns) for every non-empty, non-comment, valid UTF-8 line."""
    for number, raw in enumerate(stream, 1):
        where = f"{name}:{number}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.add(
                where, f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1})"
            )
            if problems.full:
                return
            continue
        line = line.rstrip("\r\n")
        if not line or line.startswith("#"):
            continue
        yield where, line.split("\t")


def read_countries(path: Path, problems: Problems) -> list[Country]:
    """Every country in a countryInfo.txt; problems are recorded, bad lines left out."""
    rows: list[Country] = []
    seen: set[str] = set()
    with _open(path) as (name, stream):
        for where, cols in _lines(name, stream, problems):
            if len(cols) != COUNTRY_COLUMNS:
                problems.add(
                    where, f"expected {COUNTRY_COLUMNS} tab-separated columns, found {len(cols)}"
                )
            else:
                try:
                    row = fields.country([*cols[:13], cols[15], cols[16], cols[17]])
                    if row.iso in seen:
                        raise fields.Bad(f"country {row.iso} appears twice")
                except fields.Bad as bad:
                    problems.add(where, str(bad))
                else:
                    seen.add(row.iso)
                    rows.append(row)
            if problems.full:
                break
    return rows


def read_cities(path: Path, checker: fields.CityChecker) -> Iterator[City]:
    """The populated places of a GeoNames dump file, checked as they stream by."""
    problems = checker.problems
    with _open(path) as (name, stream):
        for where, cols in _lines(name, stream, problems):
            if len(cols) != CITY_COLUMNS:
                problems.add(
                    where, f"expected {CITY_COLUMNS} tab-separated columns, found {len(cols)}"
                )
            elif cols[6] == POPULATED:
                row = checker.city(
                    where,
                    geonameid=cols[0],
                    name=cols[1],
                    asciiname=cols[2],
                    alternatenames=cols[3],
                    latitude=cols[4],
                    longitude=cols[5],
                    country_code=cols[8],
                    population=cols[14],
                    timezone=cols[17],
                    admin1_code=cols[10],
                )
                if row is not None:
                    yield row
            if problems.full:
                return
