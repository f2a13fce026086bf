"""Wire schemas of the agent's WireGuard tunnel (`/v1/tunnel`): encryption between hosts.

Each agent makes its own key pair; the private key stays in the agent's state
directory (mode 0600) and is never sent anywhere: the agent reports only its
public key. The control plane hands each agent its peers' public keys, underlay
endpoints and tunnel addresses, plus an optional pre-shared key derived from the
mesh secret. An encrypted overlay then uses tunnel addresses as its VTEPs, so
VXLAN only ever targets tunnel addresses; a blackhole route for the tunnel
network keeps packets for a peer whose tunnel is down from leaving in plaintext.
"""

import base64
import hashlib
import ipaddress
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WIREGUARD_PORT = 51820
IFNAME_PATTERN = r"^weftwg[0-9a-z]{1,9}$"


def psk_fingerprint(key: str) -> str:
    """A short digest naming a pre-shared key without showing it (to compare what is set)."""
    return hashlib.sha256(b"weft-psk:" + key.encode()).hexdigest()[:16]


def _key(value: str) -> str:
    raw = base64.b64decode(value, validate=True)
    if len(raw) != 32:
        raise ValueError("not a WireGuard key (32 bytes, base64)")
    return value


class TunnelPeer(BaseModel):
    """Another host's end of the tunnel."""

    model_config = ConfigDict(extra="forbid")

    public_key: str
    endpoint: str = Field(description="The peer's underlay address and port, e.g. 10.0.0.2:51820.")
    tunnel_address: str = Field(description="The peer's address inside the tunnel.")
    host: str | None = None

    @field_validator("public_key")
    @classmethod
    def _pub(cls, value: str) -> str:
        return _key(value)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("endpoint must be IPv4:port")
        return f"{ipaddress.IPv4Address(host)}:{int(port)}"

    @field_validator("tunnel_address")
    @classmethod
    def _addr(cls, value: str) -> str:
        return str(ipaddress.IPv4Address(value))


class TunnelSpec(BaseModel):
    """`PUT /v1/tunnel`: this host's WireGuard interface as it should be."""

    model_config = ConfigDict(extra="forbid")

    interface: str = Field(
        pattern=IFNAME_PATTERN,
        description="Unique per host on one machine (wireguard-go's sockets share a directory).",
    )
    address: str = Field(description="This host's tunnel address with the tunnel network's prefix.")
    listen_port: int = Field(WIREGUARD_PORT, ge=1, le=65535)
    mtu: int | None = Field(None, ge=576, le=65535, description="None: underlay MTU - 80.")
    preshared_key: str | None = Field(None, description="Shared by the mesh (from its secret).")
    persistent_keepalive: int = Field(
        25,
        ge=0,
        le=3600,
        description="Seconds between keepalives to each peer (0: off). They keep the "
        "handshake fresh, so a peer's last handshake says whether its tunnel is up.",
    )
    peers: list[TunnelPeer] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _cidr(cls, value: str) -> str:
        return str(ipaddress.IPv4Interface(value))

    @field_validator("preshared_key")
    @classmethod
    def _psk(cls, value: str | None) -> str | None:
        return None if value is None else _key(value)

    @model_validator(mode="after")
    def _peers_fit(self) -> "TunnelSpec":
        net = ipaddress.IPv4Interface(self.address).network
        for i, p in enumerate(self.peers):
            if ipaddress.IPv4Address(p.tunnel_address) not in net:
                raise ValueError(f"peers[{i}].tunnel_address is outside {net}")
        keys = [p.public_key for p in self.peers]
        if len(set(keys)) != len(keys):
            raise ValueError("a peer's public key is listed twice")
        return self


class TunnelPeerState(BaseModel):
    """A peer as WireGuard reports it."""

    public_key: str
    endpoint: str | None
    allowed_ips: list[str]
    latest_handshake: datetime | None
    rx_bytes: int
    tx_bytes: int
    persistent_keepalive: int | None = None
    psk_fingerprint: str | None = Field(
        None, description="psk_fingerprint() of the peer's pre-shared key; None without one."
    )


class TunnelState(BaseModel):
    """`GET /v1/tunnel`: the public key always; the interface when there is one."""

    public_key: str
    interface: str | None = None
    backend: str | None = Field(None, description="kernel or wireguard-go.")
    address: str | None = None
    listen_port: int | None = None
    mtu: int | None = None
    peers: list[TunnelPeerState] = Field(default_factory=list)
