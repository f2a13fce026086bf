"""The control plane's configuration: one Settings object, read from WEFT_* variables."""

import ssl
from ipaddress import IPv4Network
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def normalise_database_url(url: str) -> str:
    """Pick the async driver for a plain DATABASE_URL (sqlite, mysql/mariadb, postgresql)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    drivers = {
        "sqlite": "sqlite+aiosqlite",
        "mysql": "mysql+asyncmy",
        "mariadb": "mysql+asyncmy",
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
    }
    return f"{drivers.get(scheme, scheme)}://{rest}"


class Settings(BaseSettings):
    """Where state lives and how eagerly the control plane reconciles."""

    model_config = SettingsConfigDict(env_prefix="WEFT_", extra="ignore")

    state_dir: Path = Path("/var/lib/weft")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("WEFT_DATABASE_URL", "DATABASE_URL")
    )
    # Seconds between reconcile passes when nothing asks for one sooner.
    reconcile_interval: float = 5.0
    # Retry delays while a host's agent does not answer: doubled up to the cap.
    backoff_initial: float = 0.5
    backoff_max: float = 15.0
    # Retry delays of a resource whose action failed: doubled per failure up to the cap,
    # with jitter. A write to the resource, or a success, starts afresh.
    retry_initial: float = Field(default=0.5, gt=0)
    retry_max: float = Field(default=60.0, gt=0)
    # An agent call still running after this many seconds finishes in the background:
    # a slow stop or pull holds up only its own resource, not the rest of the host.
    slow_action: float = Field(default=2.0, gt=0)
    # Container creates and starts on one host run this many at once (Docker does the
    # work; one at a time left the engine idle while the control plane waited).
    parallel_actions: int = Field(default=4, ge=1, le=32)
    # How long `?wait=true` waits for convergence before answering with the current state.
    wait_timeout: float = 60.0
    # `?wait=true` on /stacks: a stack may load data before it is healthy.
    stack_wait_timeout: float = 900.0
    # Per-call timeout of agent requests (ensure_container may wait for a start).
    agent_timeout: float = 30.0
    # TLS to agents (https:// agent URLs): the CA that signed their certificates, and
    # this control plane's client certificate for agents that require mutual TLS.
    agents_ca: Path | None = None
    agents_cert: Path | None = None
    agents_key: Path | None = None
    # Event retention, applied every events_prune_interval seconds (0: no limit of that kind).
    events_max_count: int = Field(default=10_000, ge=0)
    events_max_age_days: float = Field(default=7.0, ge=0)
    events_prune_interval: float = Field(default=300.0, gt=0)
    # The key that seals agent tokens in the database (0600; made on first start).
    # Control planes sharing one DATABASE_URL must share this file too.
    token_key_file: Path | None = None
    # Hosts' addresses inside their WireGuard tunnels (encrypted overlays' VTEPs): a
    # host's is this network's address numbered by the host's id.
    tunnel_network: IPv4Network = IPv4Network("100.96.0.0/16")

    def agents_ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for agent calls (None: the system defaults)."""
        if not (self.agents_ca or self.agents_cert):
            return None
        ctx = ssl.create_default_context(cafile=str(self.agents_ca) if self.agents_ca else None)
        if self.agents_cert:
            ctx.load_cert_chain(self.agents_cert, self.agents_key)
        return ctx

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: DATABASE_URL if set, else <state-dir>/weft.db."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.state_dir / 'weft.db'}"

    @property
    def agent_token_key(self) -> Path:
        """The key file sealing agent tokens: token_key_file, else <state-dir>/agent-tokens.key."""
        return self.token_key_file or self.state_dir / "agent-tokens.key"

    @property
    def admin_token_file(self) -> Path:
        """Where the admin token is written on first start (mode 0600)."""
        return self.state_dir / "admin.token"
