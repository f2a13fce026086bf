"""The search API's settings, read from SEARCHAPI_* environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the world database is and how the API uses it."""

    model_config = SettingsConfigDict(env_prefix="SEARCHAPI_", extra="ignore")

    db_host: str = "127.0.0.1"
    db_port: int = 3306
    db_user: str = "world"
    db_password: str = ""
    db_name: str = "world"
    # Connections kept open; more than the cores is wasted on a search this short.
    pool_size: int = 8
    # Seconds a request waits for a free connection before a 503.
    pool_acquire_timeout: float = 2.0
    # Seconds after which an idle connection is replaced; well below the
    # server's wait_timeout (28800 by default), so a reused one is never dead.
    pool_recycle: float = 300.0
    connect_timeout: float = 3.0
    # Seconds one request may spend in the database (client side, and the
    # server's max_statement_time as a backstop).
    query_timeout: float = 10.0
    # Rows shown by the HTML page.
    page_rows: int = 500
    # Serve /bench/* (the seed's query and a no-database endpoint) for bench/search.py.
    bench_endpoints: bool = False
