"""The fields of one city in a /cities answer, in the order they are rendered."""

ITEM_FIELDS = (
    "geonameid",
    "name",
    "asciiname",
    "country_code",
    "country",
    "latitude",
    "longitude",
    "population",
    "timezone",
)
# One item as MariaDB renders it (city_rows aliased `r`): the SQL path and the
# in-process index both serve these bytes.
JSON_ROW = "JSON_OBJECT(" + ", ".join(f"'{f}', r.{f}" for f in ITEM_FIELDS) + ")"
