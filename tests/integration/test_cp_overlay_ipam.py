"""Overlay subnets and IPAM under 20 concurrent writers on PostgreSQL and MariaDB.

The same checks as tests/unit/test_cp_overlays.py (SQLite there), on the server
databases whose row locks and unique constraints they rely on. The agents are the
fakes of the HTTP seam: what is under test is the database's say.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import MariaDB, Postgres
from tests.unit import test_cp_overlays as checks
from tests.unit import test_cp_weave as weave_checks
from tests.unit.cp_app import CP, control_plane

pytestmark = pytest.mark.integration


@pytest.fixture(params=["postgres", "mariadb"])
def cp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CP]:
    if request.param == "postgres":
        pg: Postgres = request.getfixturevalue("postgres")
        name = pg.create_database()
        url = pg.url(name)
    else:
        m: MariaDB = request.getfixturevalue("mariadb")
        name = m.create_database()
        url = f"mysql://{m.user}:{m.password}@{m.host}:{m.port}/{name}"
    try:
        with control_plane(tmp_path, url) as c:
            yield c
    finally:
        (pg if request.param == "postgres" else m).drop_database(name)


def test_parallel_overlays_get_disjoint_subnets(cp: CP) -> None:
    checks.test_20_parallel_overlays_get_disjoint_subnets_and_a_fixed_subnet_one_winner(cp)


def test_bridges_and_overlays_racing_leave_one_winner(cp: CP) -> None:
    checks.test_bridges_and_overlays_racing_for_one_range_leave_one_winner(cp)


def test_addresses_peers_and_dns(cp: CP) -> None:
    checks.test_containers_on_an_overlay_get_distinct_addresses_peers_and_dns(cp)


def test_concurrent_exposes_one_address_per_host(cp: CP) -> None:
    weave_checks.test_20_concurrent_exposes_give_one_address_per_host(cp)


def test_concurrent_attaches_all_stick(cp: CP) -> None:
    weave_checks.test_concurrent_attaches_to_several_overlays_all_stick(cp)
