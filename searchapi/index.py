"""The search index the loader builds beside the cities table.

Contract with the loader (searchapi/loader): after the loader has filled the
staging table `cities{suffix}`, it calls `build_index(conn, suffix)`, which
creates and fills `<table>{suffix}` for every name in INDEX_TABLES. The loader
then swaps all staging tables in with one RENAME TABLE, so readers never see
the index and the cities out of step.

Owned by the search API; the loader only calls it.
"""

from typing import Any

INDEX_TABLES: tuple[str, ...] = ()


async def build_index(conn: Any, suffix: str) -> None:
    """Create and fill the index tables for `cities{suffix}` (none yet)."""
    return None
