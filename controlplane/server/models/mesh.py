"""The mesh's encryption as the API shows it: its password (write-only) and each host's tunnel."""

from pydantic import BaseModel, ConfigDict, Field


class MeshPassword(BaseModel):
    """PUT /mesh/password: the `weave --password` analogue."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(
        min_length=8,
        max_length=1024,
        description="The pre-shared key of every tunnel is derived from it (HKDF-SHA256); "
        "it is never stored or shown, only the sealed key.",
    )


class MeshHost(BaseModel):
    """One host's tunnel: what its peers are told of it."""

    host_id: int
    name: str
    interface: str
    tunnel_address: str
    public_key: str | None = Field(
        None, description="Reported by its agent while an encrypted overlay spans the host."
    )


class MeshPublic(BaseModel):
    """GET /mesh: the tunnel network, whether a password is set, the hosts' tunnels."""

    tunnel_network: str
    password_set: bool
    psk_fingerprint: str | None = Field(
        None, description="A digest naming the pre-shared key (equal on every host's peers)."
    )
    hosts: list[MeshHost]
