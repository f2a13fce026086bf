"""Control-plane storage: URL handling, `weft db upgrade`, SQLite in WAL mode."""

import sqlite3
import stat
import subprocess
import sys

import pytest

from controlplane.server.db import alembic_config
from controlplane.server.settings import Settings, normalise_database_url


def migration_head() -> str:
    """The newest revision of the packaged migrations (a new one needs no test edit)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_the_migrations_are_one_chain_through_hardening():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    chain = [s.revision for s in scripts.walk_revisions()]
    assert len(scripts.get_heads()) == 1
    assert {"0001", "0002_hardening"} <= set(chain)


def test_database_url_picks_async_drivers(tmp_path, monkeypatch):
    assert normalise_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert normalise_database_url("mariadb://u:p@h/db") == "mysql+asyncmy://u:p@h/db"
    assert normalise_database_url("mysql+asyncmy://u@h/d") == "mysql+asyncmy://u@h/d"
    assert normalise_database_url("postgres://u:p@h:5432/d") == "postgresql+asyncpg://u:p@h:5432/d"
    with pytest.raises(ValueError):
        normalise_database_url("nonsense")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("WEFT_DATABASE_URL", raising=False)
    assert Settings(state_dir=tmp_path).db_url == f"sqlite+aiosqlite:///{tmp_path}/weft.db"
    monkeypatch.setenv("DATABASE_URL", "mysql://a:b@127.0.0.1/x")
    assert Settings(state_dir=tmp_path).db_url == "mysql+asyncmy://a:b@127.0.0.1/x"


def test_weft_db_upgrade_creates_the_schema_in_wal_mode(tmp_path):
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "controlplane.cli", "db", "upgrade", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    db = sqlite3.connect(tmp_path / "weft.db")
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"hosts", "networks", "containers", "links", "events", "api_tokens"} <= tables
        version = db.execute("SELECT version_num FROM alembic_version").fetchone()
        assert version == (migration_head(),)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        # The state dir and the database are the server's alone (agent tokens live there).
        assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "weft.db").stat().st_mode) == 0o600
    finally:
        db.close()
