"""The search API's settings, read from SEARCHAPI_* environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from searchapi.dbconnect import Endpoint


class Settings(BaseSettings):
    """Where the world database is and how the API uses it."""

    model_config = SettingsConfigDict(env_prefix="SEARCHAPI_", extra="ignore")

    # Where `python -m searchapi` listens.
    host: str = "0.0.0.0"
    port: int = 8080
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
    # Answer /cities from an index held in this process (MariaDB is read into it).
    memory_index: bool = True
    # Seconds between checks of the data version (load_state) for a reload.
    index_poll_interval: float = 1.0
    # Serve /bench/* (the seed's query and a no-database endpoint) for bench/search.py.
    bench_endpoints: bool = False

    @property
    def endpoint(self) -> Endpoint:
        """Where to connect."""
        return Endpoint(
            host=self.db_host,
            port=self.db_port,
            user=self.db_user,
            password=self.db_password,
            database=self.db_name,
            connect_timeout=self.connect_timeout,
        )
