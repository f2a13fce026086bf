"""Control-plane storage: URL handling, `weft db upgrade`, SQLite in WAL mode."""

import asyncio
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
        for table in (
            "hosts",
            "networks",
            "containers",
            "links",
            "events",
            "api_tokens",
            "peerings",
        ):
            sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            assert "AUTOINCREMENT" in sql[0], sql
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        # The state dir and the database are the server's alone (agent tokens live there).
        assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "weft.db").stat().st_mode) == 0o600
    finally:
        db.close()


NOW = "2026-11-30 00:00:00"
TABLES = ("hosts", "networks", "containers", "links", "events", "api_tokens")


def _rows_of_0003(path):
    """A 0003 database with a host, two containers and a link between them."""
    from alembic import command

    from controlplane.server.db import alembic_config

    command.upgrade(alembic_config(f"sqlite+aiosqlite:///{path}"), "0003_multihost")
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys=ON")
    for hid in (1, 2):
        db.execute(
            "INSERT INTO hosts (id, name, agent_url, labels, agent_token, status, addresses,"
            " created_at) VALUES (?, ?, ?, '{}', 't', 'ready', '[]', ?)",
            (hid, f"h{hid}", f"http://h{hid}", NOW),
        )
    db.execute("INSERT INTO peerings (host_a_id, host_b_id, created_at) VALUES (1, 2, ?)", (NOW,))
    for cid in (1, 2):
        db.execute(
            "INSERT INTO containers (id, name, host_id, spec, restart_generation, generation,"
            " observed, status, created_at, updated_at)"
            " VALUES (?, ?, 1, '{}', 0, 0, '{}', 'pending', ?, ?)",
            (cid, f"c{cid}", NOW, NOW),
        )
    db.execute(
        "INSERT INTO links (from_id, to_id, alias, created_at) VALUES (1, 2, 'db', ?)", (NOW,)
    )
    db.commit()
    db.close()


async def test_upgrade_to_0004_keeps_rows_and_ids_are_never_reused(tmp_path):
    from sqlalchemy import text

    from controlplane.server.db import make_engine, upgrade

    path = tmp_path / "weft.db"
    await asyncio.to_thread(_rows_of_0003, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            # The rebuild of containers did not cascade into links.
            assert (await conn.execute(text("SELECT count(*) FROM links"))).scalar() == 1
            assert (await conn.execute(text("SELECT count(*) FROM peerings"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            await conn.execute(text("DELETE FROM links"))
            await conn.execute(text("DELETE FROM containers WHERE id = 2"))
            await conn.execute(
                text(
                    "INSERT INTO containers (name, host_id, spec, restart_generation, generation,"
                    " observed, status, created_at, updated_at)"
                    " VALUES ('c3', 1, '{}', 0, 0, '{}', 'pending', :t, :t)"
                ),
                {"t": NOW},
            )
            new = await conn.execute(text("SELECT id FROM containers WHERE name = 'c3'"))
            assert new.scalar() == 3  # not 2 again
    finally:
        await engine.dispose()
