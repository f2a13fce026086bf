"""Session fixtures: a real Docker engine, real MariaDB and PostgreSQL, per-test databases."""

from collections.abc import Iterator

import docker
import pytest

from tests.cluster_fixture import cluster  # noqa: F401 -- a session fixture
from tests.harness import MariaDB, Postgres, ensure_system, other_test_runs, remove_test_leftovers
from tests.world_fixture import world_database  # noqa: F401 -- a session fixture


@pytest.fixture(scope="session")
def system() -> None:
    """dockerd and MariaDB answer (the harness starts them when they do not)."""
    ensure_system()


@pytest.fixture(scope="session")
def docker_client(system: None) -> Iterator[docker.DockerClient]:
    """A client of the real local engine; test leftovers are cleared before and after."""
    client = docker.from_env(timeout=120)
    remove_test_leftovers(client)
    yield client
    remove_test_leftovers(client)
    client.close()


@pytest.fixture(scope="session")
def mariadb(system: None) -> MariaDB:
    """The real MariaDB server the tests use."""
    db = MariaDB()
    leftovers = [] if other_test_runs() else db.sql("SHOW DATABASES LIKE 'weft\\_test\\_%'").split()
    for name in leftovers:
        if name.startswith("weft_test_cache_"):
            continue  # loaded once, reused while its inputs are unchanged
        db.drop_database(name)
    return db


@pytest.fixture
def database(mariadb: MariaDB) -> Iterator[str]:
    """A fresh empty database for one test, dropped afterwards."""
    name = mariadb.create_database()
    yield name
    mariadb.drop_database(name)


@pytest.fixture(scope="session")
def postgres(system: None) -> Postgres:
    """The real PostgreSQL server the tests use; weft_test_* databases of killed runs go."""
    pg = Postgres()
    if not other_test_runs():
        query = "SELECT datname FROM pg_database WHERE datname LIKE 'weft\\_test\\_%'"
        for name in pg.sql(query).split():
            pg.drop_database(name)
    return pg


@pytest.fixture
def pg_database(postgres: Postgres) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (the test role owns it), dropped afterwards."""
    name = postgres.create_database()
    yield name
    postgres.drop_database(name)


@pytest.fixture(scope="session")
def base_python_image(docker_client: docker.DockerClient) -> str:
    """`weft/base-python:bookworm` (python3 inside): the image for throwaway test containers."""
    from controlplane.build.base import ensure_base

    return ensure_base("python", docker_client)


@pytest.fixture(scope="session")
def weft_images(docker_client: docker.DockerClient) -> dict[str, str]:
    """weft's own images, built (or found up to date) once per session: name -> tag."""
    from controlplane.build.images import IMAGES, build_all

    tags = build_all(client=docker_client)
    return dict(zip(IMAGES, tags, strict=True))


# A unit test that hangs (a loop that missed its cancel, a lost wake-up) fails after
# this long, not after the session-wide timeout meant for a whole cluster's set-up.
UNIT_TIMEOUT_S = 120


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/unit/" in item.nodeid and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(UNIT_TIMEOUT_S))
