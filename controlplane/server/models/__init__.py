"""SQLModel tables and the API schemas of the control plane."""

from controlplane.contract.apitypes import (
    ContainerCreate,
    ContainerObserved,
    ContainerSpec,
    ContainerUpdate,
    HealthCheck,
    NetworkAttachment,
    PortBinding,
    RestartPolicy,
)
from controlplane.server.models.auth import ApiToken, Meta, TokenCreate, TokenCreated, TokenPublic
from controlplane.server.models.containers import Container, ContainerPublic, ObservedRecord
from controlplane.server.models.events import Event, EventPublic
from controlplane.server.models.hosts import Host, HostCreate, HostPublic, HostUpdate
from controlplane.server.models.links import Link, LinkCreate, LinkPublic
from controlplane.server.models.networks import Network, NetworkCreate, NetworkPublic, NetworkUpdate
from controlplane.server.models.overlay import (
    HostRecords,
    IpamAddress,
    IpamBlock,
    NetworkIpam,
    OverlayAddress,
    OverlayBlock,
)
from controlplane.server.models.peerings import (
    HostPeers,
    Peering,
    PeeringCheck,
    PeeringCreate,
    PeeringPublic,
    PeerStatus,
)
from controlplane.server.models.stacks import (
    ServiceState,
    Stack,
    StackCreate,
    StackPublic,
    StackStatus,
)

__all__ = [
    "ApiToken",
    "Container",
    "ContainerCreate",
    "ContainerObserved",
    "ContainerPublic",
    "ContainerSpec",
    "ContainerUpdate",
    "Event",
    "EventPublic",
    "HealthCheck",
    "Host",
    "HostCreate",
    "HostPeers",
    "HostPublic",
    "HostRecords",
    "HostUpdate",
    "IpamAddress",
    "IpamBlock",
    "Link",
    "LinkCreate",
    "LinkPublic",
    "Meta",
    "Network",
    "NetworkAttachment",
    "NetworkCreate",
    "NetworkIpam",
    "NetworkPublic",
    "NetworkUpdate",
    "ObservedRecord",
    "OverlayAddress",
    "OverlayBlock",
    "PeerStatus",
    "Peering",
    "PeeringCheck",
    "PeeringCreate",
    "PeeringPublic",
    "PortBinding",
    "RestartPolicy",
    "ServiceState",
    "Stack",
    "StackCreate",
    "StackPublic",
    "StackStatus",
    "TokenCreate",
    "TokenCreated",
    "TokenPublic",
]
