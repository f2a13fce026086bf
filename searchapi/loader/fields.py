"""Field checks shared by every source: text in, typed value out, or a problem named."""

import math
import re

from searchapi.loader.records import CONTINENTS, City, Country, Problems

_ISO2 = re.compile(r"[A-Z]{2}")
_ISO3 = re.compile(r"[A-Z]{3}")
_MAX_ID = 2**32 - 1
_BITMAP_LIMIT = 1 << 27  # 16 MiB of bitmap covers every geonameid issued so far


class Bad(ValueError):
    """One field is wrong; the message says which and why."""


def integer(label: str, text: str, *, empty: int | None = None, high: int = 2**63 - 1) -> int:
    """A non-negative integer field; `empty` is the value of an empty field (None: required)."""
    text = text.strip()
    if not text:
        if empty is None:
            raise Bad(f"{label} is empty")
        return empty
    try:
        value = int(text)
    except ValueError:
        raise Bad(f"{label} {text!r} is not a whole number") from None
    if not 0 <= value <= high:
        raise Bad(f"{label} {value} is out of range 0..{high}")
    return value


def optional_int(label: str, text: str) -> int | None:
    """An integer field that may be empty (None)."""
    return integer(label, text, empty=-1) if text.strip() else None


def coordinate(label: str, text: str, limit: float) -> str:
    """A latitude (limit 90) or longitude (limit 180), as decimal text with 5 places."""
    try:
        value = float(text)
    except ValueError:
        raise Bad(f"{label} {text!r} is not a number") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise Bad(f"{label} {text.strip()!r} is out of range -{limit:g}..{limit:g}")
    return f"{value:.5f}"


def sized(label: str, text: str, limit: int, *, required: bool = False) -> str:
    """A text field of at most `limit` characters."""
    if required and not text.strip():
        raise Bad(f"{label} is empty")
    if len(text) > limit:
        raise Bad(f"{label} is {len(text)} characters long (at most {limit})")
    return text


def area(text: str) -> float | None:
    """The area in km² (may be empty)."""
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise Bad(f"area {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise Bad(f"area {text!r} is out of range")
    return value


def country(cols: list[str]) -> Country:
    """A Country from its 16 fields in column order (raises Bad)."""
    iso, iso3 = cols[0].strip(), cols[1].strip()
    if not _ISO2.fullmatch(iso):
        raise Bad(f"ISO code {iso!r} is not two capital letters")
    if not _ISO3.fullmatch(iso3):
        raise Bad(f"ISO3 code {iso3!r} is not three capital letters")
    continent = cols[8].strip()
    if continent not in CONTINENTS:
        raise Bad(f"continent {continent!r} is not one of {', '.join(sorted(CONTINENTS))}")
    return Country(
        iso=iso,
        iso3=iso3,
        iso_numeric=optional_int("ISO numeric code", cols[2]),
        fips=sized("fips", cols[3], 4),
        name=sized("name", cols[4].strip(), 200, required=True),
        capital=sized("capital", cols[5].strip(), 200),
        area_km2=area(cols[6]),
        population=integer("population", cols[7], empty=0),
        continent=continent,
        tld=sized("tld", cols[9], 10),
        currency_code=sized("currency code", cols[10], 3),
        currency_name=sized("currency name", cols[11], 50),
        phone=sized("phone", cols[12], 30),
        languages=sized("languages", cols[13], 200),
        geonameid=optional_int("geonameid", cols[14]),
        neighbours=sized("neighbours", cols[15], 200),
    )


class CityChecker:
    """Checks city fields against the known countries and earlier ids (no duplicates)."""

    def __init__(self, countries: set[str], problems: Problems) -> None:
        self.countries = countries
        self.problems = problems
        self._seen = bytearray(1 << 21)  # a bitmap of geonameids, grown on demand
        self._big: set[int] = set()  # ids past the bitmap's reach (none in real data)

    def city(
        self,
        where: str,
        geonameid: str,
        name: str,
        asciiname: str,
        alternatenames: str,
        latitude: str,
        longitude: str,
        country_code: str,
        population: str,
        timezone: str,
        admin1_code: str,
    ) -> City | None:
        """A checked City, or None after recording the problem at `where`."""
        try:
            gid = integer("geonameid", geonameid, high=_MAX_ID)
            code = country_code.strip()
            if code not in self.countries:
                raise Bad(f"unknown country code {code!r}" if code else "country code is empty")
            row = City(
                geonameid=gid,
                name=sized("name", name, 200, required=True),
                asciiname=sized("asciiname", asciiname, 200),
                alternatenames=alternatenames,
                latitude=coordinate("latitude", latitude, 90),
                longitude=coordinate("longitude", longitude, 180),
                country_code=code,
                population=integer("population", population, empty=0),
                timezone=sized("timezone", timezone, 40),
                admin1_code=sized("admin1 code", admin1_code, 20),
            )
            self._claim(gid)
        except Bad as bad:
            self.problems.add(where, str(bad))
            return None
        return row

    def _claim(self, gid: int) -> None:
        if gid >= _BITMAP_LIMIT:
            if gid in self._big:
                raise Bad(f"geonameid {gid} appears twice")
            self._big.add(gid)
            return
        byte, bit = divmod(gid, 8)
        if byte >= len(self._seen):
            self._seen.extend(bytes(max(byte + 1 - len(self._seen), len(self._seen))))
        if self._seen[byte] >> bit & 1:
            raise Bad(f"geonameid {gid} appears twice")
        self._seen[byte] |= 1 << bit
