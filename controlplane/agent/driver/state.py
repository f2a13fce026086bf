"""A container's `docker inspect` data as the agent's `ContainerState`."""

import re
from datetime import datetime
from typing import Any

from controlplane.contract import labels as L
from controlplane.contract.schemas import ContainerState, NetworkEndpoint, PortBinding

_ZERO_TIME = "0001-01-01T00:00:00Z"
_FRACTION = re.compile(r"\.(\d{1,9})")


def parse_time(value: str | None) -> datetime | None:
    """The engine's RFC 3339 time (nanoseconds) as a datetime; None for the zero time."""
    if not value or value == _ZERO_TIME:
        return None
    # Python parses at most microseconds: cut nanoseconds to six digits.
    value = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _status(state: dict[str, Any]) -> tuple[str, str]:
    """(folded status, health): a running container with a health check reports it."""
    health = (state.get("Health") or {}).get("Status") or "none"
    status = state.get("Status") or "created"
    if status == "running" and health != "none":
        status = health
    return status, health


def _ports(settings: dict[str, Any]) -> list[PortBinding]:
    out: list[PortBinding] = []
    for key, bindings in (settings.get("Ports") or {}).items():
        port, _, proto = key.partition("/")
        for b in bindings or []:
            out.append(
                PortBinding(
                    container_port=int(port),
                    protocol=proto or "tcp",
                    host_ip=b.get("HostIp", ""),
                    host_port=int(b.get("HostPort") or 0),
                )
            )
    return sorted(out, key=lambda p: (p.container_port, p.protocol, p.host_ip))


def to_state(data: dict[str, Any]) -> ContainerState:
    """The engine's inspect data of a container as a `ContainerState`."""
    state = data.get("State") or {}
    config = data.get("Config") or {}
    settings = data.get("NetworkSettings") or {}
    status, health = _status(state)
    running = bool(state.get("Running"))
    networks = {
        name: NetworkEndpoint(
            ip_address=ep.get("IPAddress") or None,
            gateway=ep.get("Gateway") or None,
            mac_address=ep.get("MacAddress") or None,
            aliases=ep.get("Aliases") or [],
        )
        for name, ep in (settings.get("Networks") or {}).items()
    }
    labels = config.get("Labels") or {}
    return ContainerState.model_validate(
        {
            "name": data["Name"].lstrip("/"),
            "id": data["Id"],
            "image": config.get("Image", ""),
            "status": status,
            "running": running,
            "health": health,
            "exit_code": None if running else state.get("ExitCode"),
            "error": state.get("Error") or None,
            "created_at": parse_time(data.get("Created")),
            "started_at": parse_time(state.get("StartedAt")),
            "finished_at": parse_time(state.get("FinishedAt")),
            "restart_count": data.get("RestartCount", 0),
            "spec_hash": labels.get(L.SPEC_HASH),
            "network_mode": (data.get("HostConfig") or {}).get("NetworkMode", ""),
            "networks": networks,
            "ports": _ports(settings),
            "labels": labels,
        }
    )
