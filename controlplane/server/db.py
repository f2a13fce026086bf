"""Database engine, sessions and schema upgrades (Alembic scripts ship in the package)."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

SessionMaker = async_sessionmaker[AsyncSession]

# How each database says "duplicate key": SQLite's extended result codes (Python
# 3.11 exposes their names), PostgreSQL's SQLSTATE (asyncpg), MariaDB's error
# numbers (asyncmy: ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME).
SQLITE_DUPLICATE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
POSTGRES_DUPLICATE = "23505"
MARIADB_DUPLICATE = frozenset({1062, 1586})


def is_duplicate(exc: IntegrityError) -> bool:
    """Whether a unique constraint (or primary key) refused the write, on any of the three.

    Foreign-key, NOT NULL and CHECK violations are not: they are bugs, not races.
    """
    orig = exc.orig
    if getattr(orig, "sqlite_errorname", None) in SQLITE_DUPLICATE:
        return True
    if getattr(orig, "sqlstate", None) == POSTGRES_DUPLICATE:
        return True
    args: tuple[object, ...] = getattr(orig, "args", ())
    return bool(args) and args[0] in MARIADB_DUPLICATE


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while a reconciler writes; busy_timeout waits out the writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    """An async engine for url; SQLite files get WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the packaged scripts (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every migration up to head on engine's database."""
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        # SQLite rebuilds a table as copy, drop, rename; with foreign keys on, the drop
        # would cascade into (or be refused by) the tables pointing at it. The pragma
        # only takes effect outside a transaction: before the first statement.
        if sqlite:
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        await conn.run_sync(_upgrade)
        await conn.commit()
        if sqlite:
            problems = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
            await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            await conn.commit()
            if problems:
                raise RuntimeError(f"foreign keys broken by the upgrade: {problems[:5]}")
