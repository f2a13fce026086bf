"""The agent's configuration: one Settings object, read from WEFT_AGENT_* variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from controlplane.contract.labels import DEFAULT_OWNER


class AgentSettings(BaseSettings):
    """How the agent listens, authenticates callers and reaches its Docker engine."""

    model_config = SettingsConfigDict(env_prefix="WEFT_AGENT_", extra="ignore")

    listen: str = Field("127.0.0.1:7946", description="host:port to serve on.")
    token_file: Path = Path("/etc/weft/agent.token")
    docker_url: str = "unix:///var/run/docker.sock"
    docker_timeout: float = 120.0
    owner: str = Field(DEFAULT_OWNER, description="Default weft.owner label value.")
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = Field(None, description="CA of client certificates: enables mTLS.")
    # Re-apply link sets when the engine (re)starts a weft container.
    watch_events: bool = True
    # Where uploaded image tarballs are spooled before `docker load`.
    spool_dir: Path | None = None
    # Host paths containers may bind-mount (each with everything under it), besides
    # data_dir. Nothing else: a bind of / or /etc would make an agent token root.
    bind_allow: list[Path] = Field(default_factory=list)
    # weft's own host-side files for its containers; always bind-mountable.
    data_dir: Path = Path("/var/lib/weft-agent")
    # Addresses reported by /v1/info; empty: the host's global addresses.
    advertise_addresses: list[str] = Field(default_factory=list)
    # The *.weave.local responder (UDP and TCP), e.g. 0.0.0.0:53; None: off.
    dns_listen: str | None = None
    # Where names outside the domain go; None: the nameservers of /etc/resolv.conf.
    dns_upstreams: list[str] | None = None
    # Where the agent keeps what must survive a restart (the DNS records); None: nowhere.
    state_dir: Path | None = None

    def host_port(self) -> tuple[str, int]:
        """`listen` split into host and port."""
        host, sep, port = self.listen.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"listen must be host:port, not {self.listen!r}")
        return host.strip("[]") or "0.0.0.0", int(port)
