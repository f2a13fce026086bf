"""The control plane on PostgreSQL through DATABASE_URL: migrations and a full round trip."""

from pathlib import Path

import pytest

from tests.harness import Postgres
from tests.integration.cp_db_roundtrip import round_trip

pytestmark = pytest.mark.integration

TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_control_plane_runs_on_postgres(
    tmp_path: Path, postgres: Postgres, pg_database: str, scheme: str
) -> None:
    url = postgres.url(pg_database).replace("postgresql://", f"{scheme}://", 1)
    round_trip(tmp_path, url, lambda q: postgres.sql(q, pg_database), TABLES)
