"""Compose's small value formats: durations, ports, env lists, env files, commands."""

import ipaddress
import re
import shlex
from typing import Any

from controlplane.stacks.problems import Collector, Loc
from controlplane.stacks.spec import Port

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
# At most a day: Docker refuses absurd health-check intervals, and so do we.
MAX_DURATION_S = 86_400.0


def duration(value: Any, loc: Loc, problems: Collector) -> float | None:
    """Compose's Go-style duration (`1m30s`, `500ms`, or a number of seconds) in seconds."""
    if isinstance(value, bool):
        problems.add(loc, "not a duration like 30s or 1m30s")
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            problems.add(loc, f"not a duration like 30s or 1m30s: {text!r}")
            return None
        seconds = sum(float(n) * _SECONDS[u] for n, u in parts)
    if not 0 <= seconds <= MAX_DURATION_S:
        problems.add(loc, f"duration must be between 0 and {int(MAX_DURATION_S)} s")
        return None
    return seconds


def port_number(value: Any, loc: Loc, problems: Collector) -> int | None:
    """One port number 1-65535 (ranges are refused by the caller's message)."""
    text = str(value)
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        problems.add(loc, f"not a port number 1-65535: {text!r}")
        return None
    return int(text)


def _protocol(text: str, loc: Loc, problems: Collector) -> str:
    if text not in ("tcp", "udp"):
        problems.add(loc, f"protocol must be tcp or udp, not {text!r}")
        return "tcp"
    return text


def expose(value: Any, loc: Loc, problems: Collector) -> str | None:
    """`3306`, `3306/tcp` -> `3306/tcp`."""
    text = str(value)
    number, _, proto = text.partition("/")
    if "-" in number:
        problems.add(loc, "port ranges are not supported: list each port")
        return None
    port = port_number(number, loc, problems)
    protocol = _protocol(proto or "tcp", loc, problems)
    return None if port is None else f"{port}/{protocol}"


def short_port(value: Any, loc: Loc, problems: Collector) -> Port | None:
    """`[[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL]` (IPv6 host IPs in brackets)."""
    text = str(value)
    spec, _, proto = text.partition("/")
    host_ip = "0.0.0.0"
    if spec.startswith("["):
        end = spec.find("]:")
        if end < 0:
            problems.add(loc, f"not a port mapping: {text!r}")
            return None
        host_ip, spec = spec[1:end], spec[end + 2 :]
    parts = spec.split(":")
    if len(parts) == 3:
        host_ip, parts = parts[0], parts[1:]
    if len(parts) > 2 or any(p == "" for p in parts[-1:]):
        problems.add(loc, f"not a port mapping like 127.0.0.1:8080:80/tcp: {text!r}")
        return None
    if any("-" in p for p in parts):
        problems.add(loc, "port ranges are not supported: list each port")
        return None
    target = port_number(parts[-1], loc, problems)
    published = port_number(parts[0], loc, problems) if len(parts) == 2 and parts[0] else None
    protocol = _protocol(proto or "tcp", loc, problems)
    if target is None:
        return None
    return _port(target, published, host_ip, protocol, loc, problems)


def long_port(value: dict[str, Any], loc: Loc, problems: Collector) -> Port | None:
    """The long syntax: target, published, host_ip, protocol, mode (host or ingress)."""
    problems.unsupported(value, ("target", "published", "host_ip", "protocol", "mode", "name"), loc)
    if "target" not in value:
        problems.add(loc, "a port needs a target")
        return None
    target = port_number(value["target"], (*loc, "target"), problems)
    published = None
    if value.get("published") not in (None, ""):
        text = str(value["published"])
        if "-" in text:
            problems.add((*loc, "published"), "port ranges are not supported: list each port")
            return None
        published = port_number(text, (*loc, "published"), problems)
    protocol = _protocol(str(value.get("protocol", "tcp")), (*loc, "protocol"), problems)
    if value.get("mode", "ingress") not in ("host", "ingress"):
        problems.add((*loc, "mode"), "mode must be host or ingress")
    if target is None:
        return None
    host_ip = str(value.get("host_ip", "0.0.0.0"))
    return _port(target, published, host_ip, protocol, (*loc, "host_ip"), problems)


def _port(
    target: int, published: int | None, host_ip: str, protocol: str, loc: Loc, problems: Collector
) -> Port | None:
    try:
        host_ip = str(ipaddress.ip_address(host_ip))
    except ValueError:
        problems.add(loc, f"not an IP address: {host_ip!r}")
        return None
    return Port(
        target=target,
        published=published,
        host_ip=host_ip,
        protocol="udp" if protocol == "udp" else "tcp",
    )


def key_values(value: Any, loc: Loc, problems: Collector, what: str) -> dict[str, str]:
    """Compose's list_or_dict (`[K=V, ...]` or `{K: V}`) as strings; a bare K is refused."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                problems.add((*loc, key), f"{what} {key} has no value")
            else:
                out[str(key)] = _scalar(item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            key, sep, val = str(item).partition("=")
            if not sep:
                problems.add((*loc, i), f"{what} {key} has no value: write {key}=VALUE")
            else:
                out[key] = val
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def env_file(text: str, loc: Loc, problems: Collector) -> dict[str, str]:
    """A .env file's contents: KEY=VALUE lines, `#` comments, `export`, quoted values."""
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            problems.add(loc, f"line {number}: not KEY=VALUE")
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"')
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[key] = value
    return out


def command(value: Any, loc: Loc, problems: Collector) -> tuple[str, ...] | None:
    """A command as a list, or a string split the way a shell would (as compose does)."""
    if value is None:
        return None
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    try:
        return tuple(shlex.split(str(value)))
    except ValueError as exc:
        problems.add(loc, f"cannot split the command: {exc}")
        return None
