"""`docker run`-style options → the JSON body of POST /containers (pure, no I/O).

Each parser raises `typer.BadParameter` (exit code 2) naming what it could not read;
the control plane still validates the result and names the field at fault.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import typer

MODES = ("bridge", "host", "none")
DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


def parse_port(value: str) -> tuple[int, str]:
    """`80` or `80/udp` → (80, 'tcp'|'udp')."""
    number, _, proto = value.partition("/")
    proto = proto or "tcp"
    if not number.isdigit() or proto not in ("tcp", "udp") or not 1 <= int(number) <= 65535:
        raise typer.BadParameter(f"not a port like 80 or 53/udp: {value!r}")
    return int(number), proto


def parse_publish(value: str) -> dict[str, Any]:
    """`-p` as Docker reads it: [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]."""
    host_ip: str | None = None
    rest = value
    if rest.startswith("["):  # [::1]:8080:80
        end = rest.find("]:")
        if end < 0:
            raise typer.BadParameter(f"not [IPv6]:HOST_PORT:PORT: {value!r}")
        host_ip, rest = rest[1:end], rest[end + 2 :]
        parts = ["", *rest.split(":")] if rest.count(":") == 1 else rest.split(":")
    else:
        parts = rest.split(":")
    if len(parts) == 3:
        host_ip = host_ip or parts[0]
        host_port, container = parts[1], parts[2]
    elif len(parts) == 2:
        host_port, container = parts
    elif len(parts) == 1:
        host_port, container = "", parts[0]
    else:
        raise typer.BadParameter(f"not [[HOST_IP:]HOST_PORT:]PORT[/PROTO]: {value!r}")
    port, proto = parse_port(container)
    binding: dict[str, Any] = {"container_port": port, "protocol": proto}
    if host_ip:
        binding["host_ip"] = host_ip
    if host_port:
        if not host_port.isdigit():
            raise typer.BadParameter(f"not a host port: {host_port!r} in {value!r}")
        binding["host_port"] = int(host_port)
    return binding


def parse_restart(value: str) -> dict[str, Any]:
    """`--restart` as Docker reads it: no | always | unless-stopped | on-failure[:N]."""
    name, _, count = value.partition(":")
    if name not in RESTART_POLICIES or (count and (name != "on-failure" or not count.isdigit())):
        raise typer.BadParameter(
            f"not a restart policy (no, always, unless-stopped, on-failure[:N]): {value!r}"
        )
    policy: dict[str, Any] = {"name": name}
    if count:
        policy["maximum_retry_count"] = int(count)
    return policy


def parse_duration(value: str) -> float:
    """`30s`, `1m30s`, `500ms`, or plain seconds → seconds."""
    try:
        return float(value)
    except ValueError:
        pass
    parts = DURATION_RE.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise typer.BadParameter(f"not a duration like 30s, 1m30s or 500ms: {value!r}")
    return sum(float(n) * UNITS[u] for n, u in parts)


def parse_attachment(value: str) -> dict[str, Any]:
    """`--network NET[:ALIAS,...]` → a network attachment."""
    name, _, aliases = value.partition(":")
    if not name:
        raise typer.BadParameter(f"not NET[:ALIAS,...]: {value!r}")
    return {"network": name, "aliases": [a for a in aliases.split(",") if a]}


def parse_link(value: str) -> tuple[str, str]:
    """`--link NAME[:ALIAS]` as Docker reads it → (container, alias); the alias defaults
    to the container's name."""
    name, sep, alias = value.partition(":")
    if not name or (sep and not alias) or ":" in alias:
        raise typer.BadParameter(f"not NAME[:ALIAS]: {value!r}")
    return name, alias or name


@dataclass
class RunOptions:
    """What `weft containers run` was given (strings as typed)."""

    name: str
    host_id: int
    image: str
    command: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    net: str | None = None
    ip: str | None = None
    publish: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    expose: list[str] = field(default_factory=list)
    restart: str | None = None
    health_cmd: str | None = None
    health_interval: str | None = None
    health_timeout: str | None = None
    health_retries: int | None = None
    health_start_period: str | None = None
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    hostname: str | None = None
    entrypoint: str | None = None
    stop_timeout: int | None = None
    # `--link` resolved by the caller: [{"to": container id, "alias": ALIAS}].
    links: list[dict[str, Any]] = field(default_factory=list)


def _healthcheck(o: RunOptions) -> dict[str, Any] | None:
    timing = (o.health_interval, o.health_timeout, o.health_retries, o.health_start_period)
    if o.health_cmd is None:
        if any(v is not None for v in timing):
            raise typer.BadParameter("--health-* timing needs --health-cmd")
        return None
    check: dict[str, Any] = {"test": ["CMD-SHELL", o.health_cmd]}
    if o.health_interval is not None:
        check["interval_s"] = parse_duration(o.health_interval)
    if o.health_timeout is not None:
        check["timeout_s"] = parse_duration(o.health_timeout)
    if o.health_retries is not None:
        check["retries"] = o.health_retries
    if o.health_start_period is not None:
        check["start_period_s"] = parse_duration(o.health_start_period)
    return check


def run_body(o: RunOptions) -> dict[str, Any]:
    """The POST /containers body for these options (only what was given, beyond the musts)."""
    networks = [parse_attachment(n) for n in o.networks]
    mode = None
    if o.net is not None:
        if o.net in MODES or o.net.startswith("container:"):
            mode = o.net
        else:  # `--net NAME` is `--network NAME`, as in Docker
            networks.insert(0, parse_attachment(o.net))
    if o.ip is not None:
        if not networks:
            raise typer.BadParameter("--ip needs a --network to take the address on")
        networks[0]["ipv4_address"] = o.ip
    body: dict[str, Any] = {"name": o.name, "host_id": o.host_id, "image": o.image}
    optional: dict[str, Any] = {
        "command": o.command or None,
        "entrypoint": [o.entrypoint] if o.entrypoint is not None else None,
        "env": o.env or None,
        "exposed_ports": [f"{p}/{proto}" for p, proto in map(parse_port, o.expose)] or None,
        "ports": [parse_publish(p) for p in o.publish] or None,
        "networks": networks or None,
        "network_mode": mode,
        "hostname": o.hostname,
        "restart_policy": parse_restart(o.restart) if o.restart is not None else None,
        "healthcheck": _healthcheck(o),
        "labels": o.labels or None,
        "dns": o.dns or None,
        "dns_search": o.dns_search or None,
        "stop_timeout_s": o.stop_timeout,
        "links": o.links or None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def update_body(o: RunOptions) -> dict[str, Any]:
    """The PATCH /containers/{id} body: only the fields given (name and host never change)."""
    body = run_body(o)
    del body["name"], body["host_id"]
    body.pop("links", None)  # links are their own resource once the container exists
    if not o.image:
        del body["image"]
    return body
