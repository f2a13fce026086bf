"""Wire schemas of the agent's overlay verbs (`/v1/overlays/{name}`).

An overlay network on one host is two things the agent keeps together:

- a Docker bridge network on the whole overlay subnet, allocating only from this
  host's range (`ip_range`) and with its own gateway address, so containers on
  different hosts share one L2 segment without handing out the same address;
- a kernel VXLAN device (`vni`, UDP `port`, source `local`) enslaved to that
  network's bridge, with one all-zeros forwarding (flood) entry per peer VTEP:
  broadcast and unknown frames are copied to every peer; replies are learned.

The MTU of both is the underlay device's minus 50 (VXLAN over IPv4) unless the
caller gives one (it does when the VXLAN itself runs inside a tunnel). Peers are
the complete list: entries for VTEPs not in it are removed, learned ones too.
"""

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from controlplane.contract.schemas import NetworkState

VXLAN_OVERHEAD = 50
VXLAN_PORT = 4789
MAX_VNI = (1 << 24) - 1
# The Docker network's label holding the VNI (so delete finds the device by name).
VNI_LABEL = "weft.overlay-vni"


def bridge_name(vni: int) -> str:
    """The overlay's Linux bridge on every host (15 characters at most)."""
    return f"weftb{vni}"


def vxlan_name(vni: int) -> str:
    """The overlay's VXLAN device on every host."""
    return f"weftv{vni}"


def _ip(value: str) -> str:
    return str(ipaddress.IPv4Address(value))


class OverlayPeer(BaseModel):
    """Another host's VTEP: where this host sends the overlay's frames."""

    model_config = ConfigDict(extra="forbid")

    address: str = Field(description="The peer's underlay (or tunnel) IPv4 address.")
    host: str | None = Field(None, description="The peer host's name (for status only).")

    @field_validator("address")
    @classmethod
    def _ipv4(cls, value: str) -> str:
        return _ip(value)


class OverlaySpec(BaseModel):
    """`PUT /v1/overlays/{name}`: the overlay network as it should be on this host."""

    model_config = ConfigDict(extra="forbid")

    vni: int = Field(ge=1, le=MAX_VNI, description="VXLAN network identifier.")
    subnet: str = Field(description="The whole overlay's IPv4 CIDR, e.g. 10.32.0.0/16.")
    ip_range: str = Field(description="This host's range inside the subnet.")
    gateway: str = Field(description="This host's gateway address (distinct per host).")
    local: str = Field(description="This host's underlay address (the VTEP source).")
    peers: list[OverlayPeer] = Field(default_factory=list)
    port: int = Field(VXLAN_PORT, ge=1, le=65535)
    mtu: int | None = Field(None, ge=576, le=65535, description="None: underlay MTU - 50.")
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("local", "gateway")
    @classmethod
    def _ipv4(cls, value: str) -> str:
        return _ip(value)

    @model_validator(mode="after")
    def _fits(self) -> "OverlaySpec":
        net = ipaddress.IPv4Network(self.subnet, strict=True)
        rng = ipaddress.IPv4Network(self.ip_range, strict=True)
        if not rng.subnet_of(net):
            raise ValueError(f"ip_range {self.ip_range} is outside subnet {self.subnet}")
        if ipaddress.IPv4Address(self.gateway) not in net:
            raise ValueError(f"gateway {self.gateway} is outside subnet {self.subnet}")
        addresses = [p.address for p in self.peers]
        if len(set(addresses)) != len(addresses):
            raise ValueError("a peer address is listed twice")
        if self.local in addresses:
            raise ValueError(f"local {self.local} is also listed as a peer")
        return self


class OverlayState(BaseModel):
    """The overlay on this host as the engine and the kernel report it."""

    name: str
    vni: int
    device: str = Field(description="The VXLAN device.")
    bridge: str
    local: str
    port: int
    mtu: int
    underlay_device: str | None = None
    underlay_mtu: int | None = None
    peers: list[str] = Field(default_factory=list, description="Flood entries' VTEPs.")
    exposed: list[str] = Field(
        default_factory=list, description="The host's own addresses on the bridge (`weave expose`)."
    )
    fast_path: int = Field(
        0,
        description="Local containers whose frames to and from other hosts skip the bridge"
        " (nftables netdev fast path); 0 on a host without libnftables.",
    )
    network: NetworkState


class OverlayEnsureResult(BaseModel):
    """Result of `PUT /v1/overlays/{name}`."""

    action: Literal["created", "unchanged", "updated", "recreated"]
    overlay: OverlayState
