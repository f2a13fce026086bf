"""Wire schemas of the agent's other weave verbs: attach, detach, expose, hide, ps, reset.

- `PUT /v1/overlays/{name}/containers/{container}` (`weave attach`) puts a running
  weft container on an overlay with a fixed address (from the control plane's
  IPAM) and aliases, through Docker's network connect: the container keeps its
  process (same id, PID and start time). `DELETE` on the same path detaches it.
- `PUT /v1/overlays/{name}/exposed/{address}` (`weave expose`) gives the host
  itself an address on the overlay, on the overlay's bridge, so the host reaches
  containers on every host of the overlay and they reach it. `DELETE` hides it.
- `GET /v1/ps` (`weave ps`): every endpoint on this host's overlays, containers
  and exposed host addresses, with address and MAC.
- `POST /v1/reset` (`weave reset`): removes everything weft put on the host and
  says what it removed; what weft did not make is left alone.
"""

import ipaddress
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from controlplane.contract.schemas import ALIAS_PATTERN

Alias = Annotated[str, Field(pattern=ALIAS_PATTERN)]


class AttachSpec(BaseModel):
    """`PUT /v1/overlays/{name}/containers/{container}`: where the container sits on it."""

    model_config = ConfigDict(extra="forbid")

    ipv4_address: str | None = Field(
        None, description="Its address inside the overlay's subnet; None: Docker picks one."
    )
    aliases: list[Alias] = Field(default_factory=list, max_length=100)

    @field_validator("ipv4_address")
    @classmethod
    def _ipv4(cls, value: str | None) -> str | None:
        return None if value is None else str(ipaddress.IPv4Address(value))


class OverlayEndpoint(BaseModel):
    """One endpoint on an overlay: a container, or the host itself (an exposed address)."""

    overlay: str
    kind: Literal["container", "host"]
    name: str = Field(description="The container's name; the overlay's bridge for the host.")
    container_id: str | None = None
    address: str = Field(description="IPv4 address with the overlay's prefix, e.g. 10.32.1.5/16.")
    mac_address: str | None = None
    aliases: list[str] = Field(default_factory=list)


class AttachResult(BaseModel):
    """Result of an attach: what changed and the endpoint as the engine reports it."""

    action: Literal["attached", "unchanged", "reattached"]
    endpoint: OverlayEndpoint


class ExposeResult(BaseModel):
    """Result of an expose: what changed and the host's addresses on the overlay now."""

    action: Literal["exposed", "unchanged"]
    overlay: str
    bridge: str
    addresses: list[str] = Field(description="Every exposed address, with the subnet's prefix.")


class ResetResult(BaseModel):
    """`POST /v1/reset`: what was removed (empty lists: nothing of weft's was left)."""

    containers: list[str] = Field(default_factory=list)
    networks: list[str] = Field(default_factory=list, description="Overlays and bridge networks.")
    devices: list[str] = Field(
        default_factory=list, description="VXLAN devices and bridges left without a network."
    )
    tunnels: list[str] = Field(default_factory=list, description="WireGuard interfaces.")
    fast_paths: list[str] = Field(
        default_factory=list, description="nftables tables of overlays' fast paths."
    )
    processes: list[int] = Field(default_factory=list, description="wireguard-go pids stopped.")
    exposed: list[str] = Field(default_factory=list, description="Host addresses hidden.")
    dns_records: int = Field(0, description="How many DNS records were dropped.")
