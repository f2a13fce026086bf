"""Wire schemas of the agent's peer probe (`POST /v1/probe`): what a host measures of its peers.

The control plane never assumes a peer is reachable: it asks each end's agent
to try. For each target the agent reports whether a TCP connection to the
target's agent port succeeded (and how long it took), and which local device
and MTU its route to the target uses (the overlay's MTU is derived from that).
"""

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ProbeTarget(BaseModel):
    """A peer to try: its underlay address and its agent's port."""

    model_config = ConfigDict(extra="forbid")

    address: str
    port: int = Field(7946, ge=1, le=65535)
    path_only: bool = Field(
        False,
        description="Measure only the path: a refused connection proves it too (the peer's "
        "kernel answered). For a peer's tunnel address, where no agent listens.",
    )

    @field_validator("address")
    @classmethod
    def _ip(cls, value: str) -> str:
        return str(ipaddress.ip_address(value))


class ProbeRequest(BaseModel):
    """`POST /v1/probe`: the peers to try (each at most `timeout_s`)."""

    model_config = ConfigDict(extra="forbid")

    targets: list[ProbeTarget] = Field(max_length=256)
    timeout_s: float = Field(1.0, gt=0, le=10)


class ProbeResult(BaseModel):
    """What this host found out about one target."""

    address: str
    reachable: bool
    rtt_ms: float | None = None
    device: str | None = Field(None, description="The local device the route uses.")
    mtu: int | None = Field(None, description="That device's MTU.")
    error: str | None = None
