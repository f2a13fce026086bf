"""The world loader: GeoNames countries and cities into MariaDB, swapped in atomically."""

from searchapi.loader.db import ConnParams, apply_schema, schema_files
from searchapi.loader.load import Source, load_world
from searchapi.loader.records import LoadError, LoadReport

__all__ = [
    "ConnParams",
    "LoadError",
    "LoadReport",
    "Source",
    "apply_schema",
    "load_world",
    "schema_files",
]
