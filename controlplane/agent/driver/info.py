"""What the host is: name, engine version, underlay addresses, capacity."""

import hashlib
import ipaddress
import socket

import docker
from pyroute2 import IPRoute

from controlplane import __version__
from controlplane.agent.driver.engine import translate
from controlplane.contract.schemas import AgentInfo

# Interfaces that carry containers, not the underlay.
_SKIP_PREFIXES = ("lo", "docker", "br-", "veth", "vx", "weft")


def host_addresses() -> list[str]:
    """Global unicast addresses of the host's (underlay) interfaces."""
    out: list[str] = []
    with IPRoute() as ipr:
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
        for addr in ipr.get_addr():
            name = names.get(addr["index"], "")
            value = addr.get_attr("IFA_ADDRESS")
            if not value or name.startswith(_SKIP_PREFIXES):
                continue
            ip = ipaddress.ip_address(value)
            if ip.is_global or (ip.is_private and not ip.is_link_local and not ip.is_loopback):
                out.append(str(ip))
    return out


def agent_info(client: docker.DockerClient, owner: str, addresses: list[str]) -> AgentInfo:
    """`GET /v1/info`: the engine's view of the host plus the agent's."""
    with translate("engine info"):
        version = client.api.version()
        info = client.api.info()
    return AgentInfo(
        hostname=info.get("Name") or socket.gethostname(),
        agent_version=__version__,
        owner=owner,
        docker_version=version.get("Version", ""),
        docker_api_version=version.get("ApiVersion", ""),
        os=info.get("OperatingSystem", ""),
        kernel_version=info.get("KernelVersion", ""),
        addresses=addresses or host_addresses(),
        cpus=int(info.get("NCPU") or 0),
        memory_bytes=int(info.get("MemTotal") or 0),
        engine_id=engine_identity(info),
    )


def engine_identity(info: dict[str, object]) -> str:
    """Which engine this is: its ID together with its data root, hashed.

    The ID alone is not enough: dockerd derives it from /etc/docker/key.json, so
    several engines on one machine (a data root each) all report the same one.
    """
    engine = str(info.get("ID") or "")
    if not engine:
        return ""
    root = str(info.get("DockerRootDir") or "")
    return hashlib.sha256(f"{engine}\n{root}".encode()).hexdigest()[:32]
