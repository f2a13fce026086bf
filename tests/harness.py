"""The test harness: real Docker and real MariaDB, started when they are not up.

Everything a test creates carries the `weft.test` label or a `wefttest` name
prefix, so a run can clear what an earlier, killed run left behind.
"""

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from controlplane.launch.local import remove_matching

ROOT = Path(__file__).resolve().parent.parent
TEST_LABEL = "weft.test"
PREFIX = "wefttest"


def unique(prefix: str = PREFIX) -> str:
    """A short unique name for a throwaway resource."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ensure_system() -> None:
    """Start dockerd, MariaDB and PostgreSQL if they do not answer; install the cluster's tools."""
    script = str(ROOT / "scripts" / "ensure-system.sh")
    subprocess.run(["bash", script, "docker", "mariadb", "postgres", "cluster"], check=True)


@dataclass(frozen=True)
class MariaDB:
    """Where the tests' MariaDB answers, and the account they use."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "weft_test"
    password: str = "weft_test"
    unix_socket: str = "/run/mysqld/mysqld.sock"

    def sql(self, statement: str, database: str | None = None) -> str:
        """Run SQL through the mariadb client as the server's root; return its output."""
        cmd = ["mariadb", "--protocol=socket", "--batch", "--skip-column-names"]
        if database:
            cmd.append(database)
        out = subprocess.run(cmd, input=statement, capture_output=True, text=True, check=True)
        return out.stdout

    def create_database(self) -> str:
        """A fresh, empty database the test account owns."""
        name = f"weft_test_{uuid.uuid4().hex[:10]}"
        self.sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database made by `create_database`."""
        assert name.startswith("weft_test_")
        self.sql(f"DROP DATABASE IF EXISTS `{name}`")


@dataclass(frozen=True)
class Postgres:
    """Where the tests' PostgreSQL answers, and the role they use (password auth over TCP)."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "weft_test"
    password: str = "weft_test"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run SQL through psql as the server's superuser (local socket); return its output."""
        cmd = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-A", "-t"]
        cmd += ["-v", "ON_ERROR_STOP=1", "-p", str(self.port), "-d", database]
        out = subprocess.run(cmd, input=statement, capture_output=True, text=True, check=True)
        return out.stdout

    def url(self, database: str) -> str:
        """The DATABASE_URL of database for the test role."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database the test role owns."""
        name = f"weft_test_{uuid.uuid4().hex[:10]}"
        self.sql(f'CREATE DATABASE "{name}" OWNER {self.user}')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database made by `create_database` (closing connections still open to it)."""
        assert name.startswith("weft_test_")
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def other_test_runs() -> list[int]:
    """Pids of other pytest processes on this machine (their resources are not leftovers)."""
    me = os.getpid()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in (me, os.getppid()):
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg.endswith(b"pytest") or arg == b"pytest" for arg in argv[:3]):
            pids.append(int(proc.name))
    return pids


def remove_test_leftovers(client: docker.DockerClient) -> None:
    """Remove what tests made (labelled `weft.test` or named `wefttest*`), this run's or older.

    While another test run is going on (several developers on one machine),
    its containers are not leftovers, so nothing is removed.
    """
    if other_test_runs():
        return
    remove_matching(
        client, lambda name, labels: name.startswith(PREFIX) or TEST_LABEL in (labels or {})
    )
