"""The loader's defaults, read from WORLDDB_* environment variables (set by the worlddb image)."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class LoaderSettings(BaseSettings):
    """Where the world database is and which account loads it."""

    model_config = SettingsConfigDict(env_prefix="WORLDDB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 3306
    admin_user: str = "root"
    admin_password: str = ""
    database: str = "world"
    # A unix socket path; empty means TCP to host:port.
    socket: str = ""
