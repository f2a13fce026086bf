"""API schemas of the other weave verbs: attach, detach, expose, hide, ps, reset.

No tables of their own: an attachment is an entry of the container's `networks`,
an exposed address a row of the central IPAM (`OverlayAddress` with no container).
"""

from pydantic import BaseModel, ConfigDict, Field

from controlplane.contract.apitypes import Name
from controlplane.contract.weave import OverlayEndpoint, ResetResult


class AttachRequest(BaseModel):
    """`PUT /containers/{id}/overlays/{network_id}`: the container's aliases on the overlay."""

    model_config = ConfigDict(extra="forbid")

    aliases: list[Name] = Field(default_factory=list, max_length=100)


class ExposedPublic(BaseModel):
    """A host's own address on an overlay (`weave expose`)."""

    host_id: int
    host: str
    network_id: int
    network: str
    address: str = Field(description="From the host's range of the overlay's central IPAM.")
    prefix: int = Field(description="The overlay subnet's prefix length the host holds it with.")


class HostEndpoints(BaseModel):
    """`GET /ps`: one host's endpoints on overlays, as its agent reports them now."""

    host_id: int
    host: str
    reachable: bool
    reason: str | None = Field(None, description="Why the agent could not be asked.")
    endpoints: list[OverlayEndpoint] = Field(default_factory=list)


class HostForgotten(BaseModel):
    """What the control plane forgot of a reset host (its desired state there)."""

    containers: list[str] = Field(default_factory=list)
    networks: list[str] = Field(default_factory=list, description="Its bridge networks.")
    overlays_handed_over: list[str] = Field(
        default_factory=list, description="Overlays it anchored, now named by another host."
    )
    overlays_removed: list[str] = Field(
        default_factory=list, description="Overlays that spanned no other host."
    )
    peerings: list[str] = Field(default_factory=list, description="As 'a-b' host names.")
    exposed: list[str] = Field(default_factory=list, description="network:address")


class HostReset(BaseModel):
    """`POST /hosts/{id}/reset`: what the agent removed and what the control plane forgot."""

    host_id: int
    host: str
    removed: ResetResult
    forgotten: HostForgotten
