"""`docker run`-style options → the container bodies the API takes (pure, no I/O).

`SpecOptions` declares the options `weft containers run` and `update` share, once;
`spec_options` gives a command all of them. The parsers build the API's own types
(`controlplane.contract.apitypes`) with only the fields given, unvalidated: the
control plane validates the body and names the field at fault. Each parser raises
`typer.BadParameter` (exit code 2) naming what it could not read.

pydantic and the API types are imported on first use, so `weft --help` stays fast.
"""

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar, get_type_hints

import typer

from controlplane.cli.commands.common import key_values

if TYPE_CHECKING:
    from controlplane.contract.apitypes import (
        ContainerCreate,
        ContainerUpdate,
        HealthCheck,
        InlineLink,
        NetworkAttachment,
        PortBinding,
        RestartPolicy,
    )

MODES = ("bridge", "host", "none")
DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")

P = ParamSpec("P")
R = TypeVar("R")
Strings = list[str] | None
Duration = Annotated[str | None, typer.Option(help="A duration, e.g. 5s or 1m30s.")]


def parse_port(value: str) -> tuple[int, str]:
    """`80` or `80/udp` → (80, 'tcp'|'udp')."""
    number, _, proto = value.partition("/")
    proto = proto or "tcp"
    if not number.isdigit() or proto not in ("tcp", "udp") or not 1 <= int(number) <= 65535:
        raise typer.BadParameter(f"not a port like 80 or 53/udp: {value!r}")
    return int(number), proto


def parse_publish(value: str) -> "PortBinding":
    """`-p` as Docker reads it: [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]."""
    from controlplane.contract.apitypes import PortBinding

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
    return PortBinding.model_construct(**binding)


def parse_restart(value: str) -> "RestartPolicy":
    """`--restart` as Docker reads it: no | always | unless-stopped | on-failure[:N]."""
    from controlplane.contract.apitypes import RestartPolicy

    name, _, count = value.partition(":")
    if name not in RESTART_POLICIES or (count and (name != "on-failure" or not count.isdigit())):
        raise typer.BadParameter(
            f"not a restart policy (no, always, unless-stopped, on-failure[:N]): {value!r}"
        )
    policy: dict[str, Any] = {"name": name}
    if count:
        policy["maximum_retry_count"] = int(count)
    return RestartPolicy.model_construct(**policy)


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


def parse_attachment(value: str, ip: str | None = None) -> "NetworkAttachment":
    """`--network NET[:ALIAS,...]` → a network attachment (with a fixed IP if given)."""
    from controlplane.contract.apitypes import NetworkAttachment

    name, _, aliases = value.partition(":")
    if not name:
        raise typer.BadParameter(f"not NET[:ALIAS,...]: {value!r}")
    given = [a for a in aliases.split(",") if a]
    if ip is None:
        return NetworkAttachment.model_construct(network=name, aliases=given)
    return NetworkAttachment.model_construct(network=name, aliases=given, ipv4_address=ip)


def parse_link(value: str) -> tuple[str, str]:
    """`--link NAME[:ALIAS]` as Docker reads it → (container, alias); the alias defaults
    to the container's name."""
    name, sep, alias = value.partition(":")
    if not name or (sep and not alias) or ":" in alias:
        raise typer.BadParameter(f"not NAME[:ALIAS]: {value!r}")
    return name, alias or name


@dataclass
class SpecOptions:
    """The `docker run` options `run` and `update` share, as typed on the command line."""

    network: Annotated[
        Strings, typer.Option("--network", help="NET[:ALIAS,...] to attach to (repeatable).")
    ] = None
    net: Annotated[
        str | None,
        typer.Option("--net", help="bridge | host | none | container:NAME (or a network name)."),
    ] = None
    ip: Annotated[str | None, typer.Option(help="Fixed IPv4 on the first --network.")] = None
    publish: Annotated[
        Strings, typer.Option("--publish", "-p", help="[[HOST_IP:]HOST_PORT:]PORT\\[/PROTO].")
    ] = None
    env: Annotated[Strings, typer.Option("--env", "-e", help="KEY=VALUE (repeatable).")] = None
    expose: Annotated[Strings, typer.Option(help="PORT\\[/PROTO] to expose (repeatable).")] = None
    restart: Annotated[
        str | None, typer.Option(help="no | always | unless-stopped | on-failure[:N].")
    ] = None
    health_cmd: Annotated[str | None, typer.Option(help="Health check (run by a shell).")] = None
    health_interval: Duration = None
    health_timeout: Duration = None
    health_retries: Annotated[int | None, typer.Option(help="Failures before unhealthy.")] = None
    health_start_period: Duration = None
    dns: Annotated[Strings, typer.Option(help="DNS server address (repeatable).")] = None
    dns_search: Annotated[Strings, typer.Option(help="DNS search domain (repeatable).")] = None
    label: Annotated[Strings, typer.Option("--label", "-l", help="KEY=VALUE (repeatable).")] = None
    hostname: Annotated[str | None, typer.Option("--hostname")] = None
    entrypoint: Annotated[str | None, typer.Option(help="Override the image's entrypoint.")] = None
    stop_timeout: Annotated[int | None, typer.Option(help="Seconds from SIGTERM to SIGKILL.")] = (
        None
    )


def spec_options(command: Callable[P, R]) -> Callable[..., R]:
    """Give a command every `SpecOptions` option; it receives them as `options: SpecOptions`.

    Typer reads a command's options from its signature, so the signature shown to it
    has the shared options where the command's `options` parameter stands.
    """
    own = inspect.signature(command)
    hints = get_type_hints(SpecOptions, include_extras=True)
    names = [f.name for f in fields(SpecOptions)]
    shared = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=hints[n])
        for n in names
    ]
    params = list(own.parameters.values())
    at = [p.name for p in params].index("options")
    # Typer passes everything by keyword; shown where `options` stood, in --help too.
    kinds = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> R:
        options = SpecOptions(**{n: kwargs.pop(n, None) for n in names})
        return command(*args, options=options, **kwargs)  # type: ignore[arg-type]

    signature = own.replace(parameters=[*kinds[:at], *shared, *kinds[at + 1 :]])
    run.__signature__ = signature  # type: ignore[attr-defined]
    run.__annotations__ = {
        **{k: v for k, v in command.__annotations__.items() if k != "options"},
        **{n: hints[n] for n in names},
    }
    return run


def _healthcheck(o: SpecOptions) -> "HealthCheck | None":
    from controlplane.contract.apitypes import HealthCheck

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
    return HealthCheck.model_construct(**check)


def spec_fields(o: SpecOptions) -> dict[str, Any]:
    """The spec fields these options give (only those given), as the API's types."""
    mode = None
    names = list(o.network or [])
    if o.net is not None:
        if o.net in MODES or o.net.startswith("container:"):
            mode = o.net
        else:  # `--net NAME` is `--network NAME`, as in Docker
            names.insert(0, o.net)
    if o.ip is not None and not names:
        raise typer.BadParameter("--ip needs a --network to take the address on")
    networks = [parse_attachment(n, o.ip if i == 0 else None) for i, n in enumerate(names)]
    given: dict[str, Any] = {
        "entrypoint": [o.entrypoint] if o.entrypoint is not None else None,
        "env": key_values(o.env, "env") or None,
        "exposed_ports": [f"{p}/{proto}" for p, proto in map(parse_port, o.expose or [])] or None,
        "ports": [parse_publish(p) for p in o.publish or []] or None,
        "networks": networks or None,
        "network_mode": mode,
        "hostname": o.hostname,
        "restart_policy": parse_restart(o.restart) if o.restart is not None else None,
        "healthcheck": _healthcheck(o),
        "labels": key_values(o.label) or None,
        "dns": o.dns or None,
        "dns_search": o.dns_search or None,
        "stop_timeout_s": o.stop_timeout,
    }
    return {k: v for k, v in given.items() if v is not None}


def run_body(
    o: SpecOptions,
    name: str,
    host_id: int,
    image: str,
    command: Sequence[str] = (),
    links: Sequence["InlineLink"] = (),
) -> "ContainerCreate":
    """The POST /containers body: name, host and image, plus only what was given."""
    from controlplane.contract.apitypes import ContainerCreate

    body: dict[str, Any] = {"name": name, "host_id": host_id, "image": image}
    if command:
        body["command"] = list(command)
    body.update(spec_fields(o))
    if links:
        body["links"] = list(links)
    return ContainerCreate.model_construct(**body)


def update_body(
    o: SpecOptions, image: str | None = None, command: Sequence[str] = ()
) -> "ContainerUpdate":
    """The PATCH /containers/{id} body: only the fields given (name and host never change;
    links are their own resource once the container exists)."""
    from controlplane.contract.apitypes import ContainerUpdate

    body = spec_fields(o)
    if image:
        body["image"] = image
    if command:
        body["command"] = list(command)
    return ContainerUpdate.model_construct(**body)
