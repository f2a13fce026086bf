"""Parsing the official GeoNames dump formats, good files and defective ones."""

import zipfile
from pathlib import Path

import pytest

from searchapi.loader import geonames
from searchapi.loader.fields import CityChecker
from searchapi.loader.records import MAX_PROBLEMS, LoadError, Problems
from tests.geonames_samples import CITIES, COUNTRIES, city_line, write_pair


def _read(countries: Path, cities: Path) -> tuple[list[str], list[str], Problems]:
    problems = Problems()
    isos = [c.iso for c in geonames.read_countries(countries, problems)]
    checker = CityChecker(set(isos), problems)
    names = [c.name for c in geonames.read_cities(cities, checker)]
    return isos, names, problems


def test_a_good_pair_parses_completely(tmp_path: Path) -> None:
    countries, cities = write_pair(tmp_path)
    isos, names, problems = _read(countries, cities)
    assert not problems
    assert isos == ["AR", "AU", "BR", "NA", "UY", "ZW"]  # 'NA' is Namibia, not a null
    assert names == [c[1] for c in CITIES]


def test_fields_keep_their_meaning(tmp_path: Path) -> None:
    countries, cities = write_pair(tmp_path)
    problems = Problems()
    by_iso = {c.iso: c for c in geonames.read_countries(countries, problems)}
    assert by_iso["BR"].capital == "Brasília"
    assert by_iso["AU"].continent == "OC" and by_iso["AU"].population == 24992369
    assert by_iso["AR"].iso_numeric == 32 and by_iso["AR"].neighbours == "CL,BO,UY,PY,BR"
    checker = CityChecker(set(by_iso), problems)
    sao = next(c for c in geonames.read_cities(cities, checker) if c.geonameid == 3448439)
    assert sao.name == "São Paulo" and sao.asciiname == "Sao Paulo"
    assert sao.alternatenames == "Sampa,Sao Paulo,São Paulo"
    assert (sao.latitude, sao.longitude) == ("-23.54750", "-46.63611")
    assert (sao.country_code, sao.population, sao.admin1_code) == ("BR", 12400232, "27")
    assert sao.timezone == "America/Sao_Paulo"


def test_zip_files_are_read_like_the_text_they_hold(tmp_path: Path) -> None:
    countries, cities = write_pair(tmp_path)
    archive = tmp_path / "cities1000.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(cities, "cities1000.txt")
    _, names, problems = _read(countries, archive)
    assert not problems and len(names) == len(CITIES)


def test_only_populated_places_are_cities(tmp_path: Path) -> None:
    """allCountries also lists mountains and rivers (feature classes other than P)."""
    lines = [city_line(CITIES[0]), city_line(CITIES[2], feature_class="T")]
    countries, cities = write_pair(tmp_path, cities=lines)
    _, names, problems = _read(countries, cities)
    assert not problems and names == ["Buenos Aires"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (city_line(CITIES[0], columns=12), "expected 19 tab-separated columns, found 12"),
        (city_line((*CITIES[0][:4], "abc", *CITIES[0][5:])), "latitude 'abc' is not a number"),
        (city_line((*CITIES[0][:4], "91.5", *CITIES[0][5:])), "latitude '91.5' is out of range"),
        (city_line((*CITIES[0][:5], "-181", *CITIES[0][6:])), "longitude '-181' is out of range"),
        (city_line((*CITIES[0][:5], "nan", *CITIES[0][6:])), "longitude 'nan' is out of range"),
        (city_line((*CITIES[0][:6], "XX", *CITIES[0][7:])), "unknown country code 'XX'"),
        (city_line(("12x", *CITIES[0][1:])), "geonameid '12x' is not a whole number"),
        (city_line((*CITIES[0][:7], "-5", *CITIES[0][8:])), "population -5 is out of range"),
        (city_line(CITIES[1]), "geonameid 3435910 appears twice"),
    ],
)
def test_a_defective_city_line_is_named_with_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    if "appears twice" in message:
        line = city_line(("3435910", *CITIES[1][1:]))
    countries, cities = write_pair(tmp_path, cities=[city_line(CITIES[0]), line])
    _, _, problems = _read(countries, cities)
    assert len(problems.items) == 1
    assert problems.items[0].startswith(f"cities1000.txt:2: {message}")


def test_bad_utf8_is_named_with_file_line_and_byte(tmp_path: Path) -> None:
    countries, cities = write_pair(tmp_path)
    good = cities.read_bytes()
    latin1 = city_line(CITIES[3]).encode("latin-1")  # São Paulo in ISO-8859-1
    cities.write_bytes(good + latin1)
    _, names, problems = _read(countries, cities)
    assert problems.items == [
        f"cities1000.txt:{len(CITIES) + 1}: not valid UTF-8 (byte 0xe3 at column 10)"
    ]
    assert len(names) == len(CITIES)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (COUNTRIES[0][:18], "expected 19 tab-separated columns, found 18"),
        (("ar", *COUNTRIES[0][1:]), "ISO code 'ar' is not two capital letters"),
        ((*COUNTRIES[0][:8], "XX", *COUNTRIES[0][9:]), "continent 'XX' is not one of"),
        ((*COUNTRIES[0][:7], "many", *COUNTRIES[0][8:]), "population 'many' is not a whole"),
        (COUNTRIES[1], "country AU appears twice"),
    ],
)
def test_a_defective_country_line_is_named(
    tmp_path: Path, row: tuple[str, ...], message: str
) -> None:
    countries, _ = write_pair(tmp_path, countries=[COUNTRIES[1], row])
    problems = Problems()
    geonames.read_countries(countries, problems)
    # Two comment lines and the header come first: the second country is line 5.
    assert len(problems.items) == 1 and problems.items[0].startswith(
        f"countryInfo.txt:5: {message}"
    )


def test_problems_are_collected_up_to_a_cap_then_reading_stops(tmp_path: Path) -> None:
    bad = [city_line((str(i), *CITIES[0][1:4], "abc", *CITIES[0][5:])) for i in range(1, 100)]
    countries, cities = write_pair(tmp_path, cities=bad)
    _, names, problems = _read(countries, cities)
    assert names == []
    assert len(problems.items) == MAX_PROBLEMS
    with pytest.raises(LoadError) as err:
        problems.raise_if_any()
    assert "cities1000.txt:1: latitude 'abc' is not a number" in str(err.value)
    assert f"cities1000.txt:{MAX_PROBLEMS}:" in str(err.value)
    assert err.value.truncated


def test_several_kinds_of_defect_are_all_reported(tmp_path: Path) -> None:
    lines = [city_line(r) for r in CITIES]
    lines[1] = city_line((*CITIES[1][:6], "QQ", *CITIES[1][7:]))
    lines[4] = city_line(CITIES[4], columns=5)
    countries, cities = write_pair(tmp_path, cities=lines)
    _, _, problems = _read(countries, cities)
    assert problems.items == [
        "cities1000.txt:2: unknown country code 'QQ'",
        "cities1000.txt:5: expected 19 tab-separated columns, found 5",
    ]
