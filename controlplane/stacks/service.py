"""One compose service mapped to a `ServiceSpec`, key by key; unsupported keys are named.

Every key weft acts on has a handler below. A key the Compose Specification allows
but weft does not act on is reported at its path, never silently dropped: a stack
that deploys means what its file says. `x-` extension keys are the exception, as
in Compose itself.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from controlplane.stacks import fields
from controlplane.stacks.problems import Collector, Loc
from controlplane.stacks.spec import (
    Attachment,
    Condition,
    Constraint,
    Health,
    Link,
    Mount,
    Port,
    Restart,
    ServiceSpec,
)

SERVICE_KEYS = frozenset(
    {
        *("image", "command", "entrypoint", "environment", "env_file", "labels", "hostname"),
        *("ports", "expose", "networks", "links", "network_mode", "dns", "dns_search"),
        *("restart", "healthcheck", "depends_on", "deploy", "volumes", "stop_grace_period"),
    }
)
DEPLOY_KEYS = frozenset({"replicas", "placement", "mode"})
_CONSTRAINT = re.compile(r"^\s*node\.(hostname|labels\.[A-Za-z0-9_.-]+)\s*(==|!=)\s*(\S+)\s*$")
T = TypeVar("T")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def service_spec(
    name: str, raw: Mapping[str, Any], env_files: Mapping[str, str], c: Collector
) -> ServiceSpec | None:
    """Map one service; problems go to c (None when the service cannot be built)."""
    loc: Loc = ("services", name)
    c.unsupported(raw, SERVICE_KEYS, loc)
    if "image" not in raw:
        c.add(loc, "an image is required (weft does not build: use `weft images` or a registry)")
        return None
    at = _At(loc, c)
    environment: dict[str, str] = {}
    for path, contents in _env_files(raw.get("env_file"), env_files, (*loc, "env_file"), c):
        environment.update(fields.env_file(contents, path, c))
    environment.update(at.kv(raw, "environment", "variable"))
    deploy = raw.get("deploy") or {}
    c.unsupported(deploy, DEPLOY_KEYS, (*loc, "deploy"))
    mode = deploy.get("mode", "replicated")
    if mode not in ("replicated", "global"):
        c.add((*loc, "deploy", "mode"), "mode must be replicated or global")
    return ServiceSpec(
        name=name,
        image=str(raw["image"]),
        command=fields.command(raw.get("command"), (*loc, "command"), c),
        entrypoint=fields.command(raw.get("entrypoint"), (*loc, "entrypoint"), c),
        environment=environment,
        labels=at.kv(raw, "labels", "label"),
        ports=tuple(at.each(raw, "ports", _port)),
        expose=tuple(at.each(raw, "expose", fields.expose)),
        networks=_networks(raw.get("networks"), (*loc, "networks"), c),
        links=tuple(at.each(raw, "links", _link)),
        hostname=_hostname(raw.get("hostname"), (*loc, "hostname"), c),
        network_mode=_network_mode(raw.get("network_mode"), (*loc, "network_mode"), c),
        restart=_restart(raw.get("restart"), (*loc, "restart"), c),
        healthcheck=_healthcheck(raw.get("healthcheck"), (*loc, "healthcheck"), c),
        depends_on=_depends_on(raw.get("depends_on"), (*loc, "depends_on"), c),
        replicas=_replicas(deploy.get("replicas", 1), (*loc, "deploy", "replicas"), c),
        global_mode=mode == "global",
        constraints=_constraints(deploy.get("placement"), (*loc, "deploy", "placement"), c),
        volumes=tuple(at.each(raw, "volumes", _mount)),
        dns=tuple(str(v) for v in _listish(raw.get("dns"))),
        dns_search=tuple(str(v) for v in _listish(raw.get("dns_search"))),
        stop_timeout_s=_stop_timeout(raw.get("stop_grace_period"), (*loc, "stop_grace_period"), c),
    )


class _At:
    """Helpers bound to one service's path and collector."""

    def __init__(self, loc: Loc, c: Collector) -> None:
        self.loc, self.c = loc, c

    def kv(self, raw: Mapping[str, Any], key: str, what: str) -> dict[str, str]:
        return fields.key_values(raw.get(key) or {}, (*self.loc, key), self.c, what)

    def each(
        self, raw: Mapping[str, Any], key: str, one: Callable[[Any, Loc, Collector], T | None]
    ) -> list[T]:
        out = []
        for i, item in enumerate(raw.get(key) or []):
            value = one(item, (*self.loc, key, i), self.c)
            if value is not None:
                out.append(value)
        return out


def _listish(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _env_files(
    value: Any, given: Mapping[str, str], loc: Loc, c: Collector
) -> list[tuple[Loc, str]]:
    out = []
    for i, item in enumerate(_listish(value)):
        path, required = (item, True) if isinstance(item, str) else (item.get("path"), True)
        if isinstance(item, dict):
            c.unsupported(item, frozenset({"path", "required"}), (*loc, i))
            required = item.get("required", True) not in (False, "false")
        item_loc = (*loc, i) if isinstance(value, list) else loc
        if path in given:
            out.append((item_loc, given[path]))
        elif required:
            c.add(item_loc, f"env file {path!r} was not sent: pass its contents in `env_files`")
    return out


def _port(value: Any, loc: Loc, c: Collector) -> Port | None:
    if isinstance(value, dict):
        return fields.long_port(value, loc, c)
    return fields.short_port(value, loc, c)


def _networks(value: Any, loc: Loc, c: Collector) -> tuple[Attachment, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(Attachment(network=str(n)) for n in value)
    out = []
    for net, options in value.items():
        options = options or {}
        c.unsupported(options, frozenset({"aliases", "ipv4_address"}), (*loc, net))
        aliases = tuple(str(a) for a in options.get("aliases") or [])
        ip = options.get("ipv4_address")
        out.append(Attachment(network=str(net), aliases=aliases, ipv4_address=ip))
    return tuple(out)


def _link(value: Any, loc: Loc, c: Collector) -> Link | None:
    service, _, alias = str(value).partition(":")
    if not service:
        c.add(loc, "a link is SERVICE or SERVICE:ALIAS")
        return None
    return Link(service=service, alias=alias or service)


def _hostname(value: Any, loc: Loc, c: Collector) -> str | None:
    if value is None:
        return None
    if not _HOSTNAME.match(str(value)):
        c.add(loc, "a hostname is letters, digits and inner dashes, at most 63 characters")
        return None
    return str(value)


def _network_mode(value: Any, loc: Loc, c: Collector) -> str:
    if value is None:
        return "bridge"
    text = str(value)
    if text in ("bridge", "host", "none") or (text.startswith("service:") and len(text) > 8):
        return text
    c.add(loc, "weft supports bridge, host, none and service:NAME")
    return "bridge"


def _restart(value: Any, loc: Loc, c: Collector) -> Restart:
    if value is None:
        return Restart()
    name, _, count = str(value).partition(":")
    if name not in ("no", "always", "unless-stopped", "on-failure") or (
        count and (name != "on-failure" or not count.isdigit())
    ):
        c.add(loc, "restart is no, always, unless-stopped or on-failure[:N]")
        return Restart()
    return Restart.model_validate({"name": name, "maximum_retry_count": int(count or 0)})


def _healthcheck(value: Any, loc: Loc, c: Collector) -> Health | None:
    if not value:
        return None
    allowed = frozenset({"test", "interval", "timeout", "retries", "start_period", "disable"})
    c.unsupported(value, allowed, loc)
    test = value.get("test")
    if value.get("disable") or test == ["NONE"]:
        return Health(test=("NONE",))  # also switches off the image's own HEALTHCHECK
    if test is None:
        c.add(loc, "a healthcheck needs a test")
        return None
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    if test[0] not in ("CMD", "CMD-SHELL") or len(test) < 2:
        c.add((*loc, "test"), 'test is a string, ["CMD", ...] or ["CMD-SHELL", "..."]')
        return None
    timing: dict[str, float] = {}
    for key, default in (("interval", 30.0), ("timeout", 30.0), ("start_period", 0.0)):
        seconds = fields.duration(value.get(key, default), (*loc, key), c)
        timing[key] = default if seconds is None else seconds
    if timing["interval"] <= 0 or timing["timeout"] <= 0:
        c.add(loc, "interval and timeout must be more than 0")
    retries = value.get("retries", 3)
    if not isinstance(retries, int) or not 1 <= retries <= 1000:
        c.add((*loc, "retries"), "retries is a whole number from 1 to 1000")
        retries = 3
    return Health(
        test=tuple(str(t) for t in test),
        interval_s=timing["interval"],
        timeout_s=timing["timeout"],
        retries=retries,
        start_period_s=timing["start_period"],
    )


def _depends_on(value: Any, loc: Loc, c: Collector) -> dict[str, Condition]:
    if value is None:
        return {}
    if isinstance(value, list):
        return {str(name): Condition.STARTED for name in value}
    out = {}
    for name, options in value.items():
        c.unsupported(options, frozenset({"condition", "required"}), (*loc, name))
        if options.get("required", True) in (False, "false"):
            c.add((*loc, name, "required"), "optional dependencies are not supported")
        try:
            out[str(name)] = Condition(options.get("condition", Condition.STARTED))
        except ValueError:
            c.add((*loc, name, "condition"), "not a depends_on condition")
    return out


def _replicas(value: Any, loc: Loc, c: Collector) -> int:
    text = str(value)
    if not text.isdigit() or int(text) > 1000:
        c.add(loc, "replicas is a whole number from 0 to 1000")
        return 1
    return int(text)


def _constraints(value: Any, loc: Loc, c: Collector) -> tuple[Constraint, ...]:
    if not value:
        return ()
    c.unsupported(value, frozenset({"constraints"}), loc)
    out = []
    for i, text in enumerate(value.get("constraints") or []):
        m = _CONSTRAINT.match(str(text))
        if not m:
            c.add(
                (*loc, "constraints", i),
                "weft supports node.hostname and node.labels.KEY with == or !=",
            )
            continue
        out.append(Constraint(field=m.group(1), equal=m.group(2) == "==", value=m.group(3)))
    return tuple(out)


def _mount(value: Any, loc: Loc, c: Collector) -> Mount | None:
    if isinstance(value, dict):
        allowed = frozenset({"type", "source", "target", "read_only"})
        c.unsupported(value, allowed, loc)
        kind, source, target = value.get("type"), value.get("source"), value.get("target")
        read_only = bool(value.get("read_only", False))
    else:
        parts = str(value).split(":")
        if len(parts) == 1:
            c.add(loc, "anonymous volumes are not supported: name the volume")
            return None
        kind, source, target = "volume", parts[0], parts[1]
        read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        if source.startswith((".", "/", "~")):
            kind = "bind"
    if kind != "volume":
        c.add(loc, "only named volumes can be mounted (no host paths through the API)")
        return None
    if not source or not target or not str(target).startswith("/"):
        c.add(loc, "a mount is VOLUME:/absolute/path[:ro]")
        return None
    return Mount(volume=str(source), target=str(target), read_only=read_only)


def _stop_timeout(value: Any, loc: Loc, c: Collector) -> int | None:
    if value is None:
        return None
    seconds = fields.duration(value, loc, c)
    return None if seconds is None else round(seconds)
