"""What the loader moves: country and city rows, and the problems it finds in sources."""

from dataclasses import dataclass, field
from typing import NamedTuple

# A GeoNames continent code; 'NA' is North America, never "not available".
CONTINENTS = frozenset({"AF", "AN", "AS", "EU", "NA", "OC", "SA"})

# How many problems one load collects before it stops reading.
MAX_PROBLEMS = 20


class Country(NamedTuple):
    """One row of `countries`, in column order."""

    iso: str
    iso3: str
    iso_numeric: int | None
    fips: str
    name: str
    capital: str
    area_km2: float | None
    population: int
    continent: str
    tld: str
    currency_code: str
    currency_name: str
    phone: str
    languages: str
    geonameid: int | None
    neighbours: str


class City(NamedTuple):
    """One row of `cities`, in column order (coordinates kept as decimal text)."""

    geonameid: int
    name: str
    asciiname: str
    alternatenames: str
    latitude: str
    longitude: str
    country_code: str
    population: int
    timezone: str
    admin1_code: str


COUNTRY_COLUMNS: tuple[str, ...] = Country._fields
CITY_COLUMNS: tuple[str, ...] = City._fields


class LoadError(Exception):
    """The sources are unusable; nothing was loaded. `problems` names file and line."""

    def __init__(self, problems: list[str], truncated: bool = False) -> None:
        self.problems = problems
        self.truncated = truncated
        more = f"\n(stopped reading after {len(problems)} problems)" if truncated else ""
        super().__init__("\n".join(problems) + more)


@dataclass
class Problems:
    """Problems found so far in the sources, capped so a hopeless file stops early."""

    cap: int = MAX_PROBLEMS
    items: list[str] = field(default_factory=list)
    truncated: bool = False

    def add(self, where: str, message: str) -> None:
        """Record `where: message` (where is `file:line`)."""
        if len(self.items) >= self.cap:
            self.truncated = True
            return
        self.items.append(f"{where}: {message}")
        # Readers stop at the cap, so there may be more problems past it.
        self.truncated = len(self.items) >= self.cap

    @property
    def full(self) -> bool:
        """True once the cap is reached: reading on would only find more of the same."""
        return len(self.items) >= self.cap

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        """Raise LoadError when anything was recorded."""
        if self.items:
            raise LoadError(list(self.items), self.truncated)


@dataclass
class LoadReport:
    """What one load did."""

    countries: int
    cities: int
    source: str
    seconds: float
    skipped: bool = False  # already loaded and `if_empty` was asked
    timings: dict[str, float] = field(default_factory=dict)
