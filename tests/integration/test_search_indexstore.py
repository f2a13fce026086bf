"""The in-process index stored by the loader: read for its own data version only."""

from pathlib import Path

import pytest

from searchapi import indexparts, indexstore, snapshot
from searchapi.loader import Source, load_world
from searchapi.loader.load import store_memory_index
from searchapi.memindex import CityIndex
from tests.geonames_samples import write_real_pair
from tests.harness import MariaDB
from tests.integration.test_search_memory import settings_for
from tests.world_fixture import conn_params, connect

pytestmark = pytest.mark.integration


async def _from_rows(mariadb: MariaDB, database: str, version: str) -> CityIndex:
    conn = await connect(conn_params(mariadb, database), autocommit=False)
    try:
        builder = await indexstore.read_rows(conn)
    finally:
        conn.close()
    return builder.build(version)


async def _stored_version(mariadb: MariaDB, database: str) -> str | None:
    conn = await connect(conn_params(mariadb, database), autocommit=True)
    try:
        return await indexstore.stored_version(conn)
    finally:
        conn.close()


def _same(a: CityIndex, b: CityIndex) -> bool:
    return a.version == b.version and dict(indexparts.to_parts(a)) == dict(indexparts.to_parts(b))


async def test_the_full_world_stores_the_index_a_build_from_its_rows_gives(
    mariadb: MariaDB, world_database: str
) -> None:
    ix = await snapshot.read_index(settings_for(mariadb, world_database))
    assert ix is not None and ix.size == 170_391
    assert await _stored_version(mariadb, world_database) == ix.version
    assert _same(ix, await _from_rows(mariadb, world_database, ix.version))


async def test_parts_of_another_version_are_not_used(
    mariadb: MariaDB, database: str, tmp_path: Path
) -> None:
    params = conn_params(mariadb, database)
    await load_world(params, Source(*write_real_pair(tmp_path / "a", 300)))
    settings = settings_for(mariadb, database)
    first = await snapshot.read_index(settings)
    assert first is not None and await _stored_version(mariadb, database) == first.version
    # Parts that name another version (as a half-done or foreign write would) are
    # ignored, garbled ones too: the index is built from the rows, and it is the same.
    mariadb.sql(
        "UPDATE city_index_parts SET data = IF(name = 'manifest',"
        ' \'{"format": 1, "version": "other"}\', \'garbled\')'
        " WHERE name IN ('manifest', 'names')",
        database=database,
    )
    rebuilt = await snapshot.read_index(settings)
    assert rebuilt is not None and _same(rebuilt, first)


async def test_a_world_without_stored_parts_is_built_then_given_them(
    mariadb: MariaDB, database: str, tmp_path: Path
) -> None:
    params = conn_params(mariadb, database)
    await load_world(params, Source(*write_real_pair(tmp_path / "a", 300)))
    mariadb.sql("DROP TABLE city_index_parts", database=database)  # as an older loader left it
    settings = settings_for(mariadb, database)
    built = await snapshot.read_index(settings)
    assert built is not None and built.size == 300
    assert await _stored_version(mariadb, database) is None
    assert await store_memory_index(params) is True
    assert await _stored_version(mariadb, database) == built.version
    assert await store_memory_index(params) is False  # already there for this version
    stored = await snapshot.read_index(settings)
    assert stored is not None and _same(stored, built)
