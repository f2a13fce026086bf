"""The control plane on MariaDB through DATABASE_URL: migrations and a full round trip."""

from pathlib import Path

import pytest

from tests.harness import MariaDB
from tests.integration.cp_db_roundtrip import round_trip

pytestmark = pytest.mark.integration


def test_control_plane_runs_on_mariadb(tmp_path: Path, mariadb: MariaDB, database: str) -> None:
    url = f"mysql://{mariadb.user}:{mariadb.password}@{mariadb.host}:{mariadb.port}/{database}"
    round_trip(tmp_path, url, lambda q: mariadb.sql(q, database), "SHOW TABLES")
