"""A compose file in, a `StackSpec` out, or every problem with its path.

The steps, each refusing with paths before the next runs: YAML within size
limits (`yamlsafe`), variable interpolation, the Compose Specification's own JSON
schema (vendored in `schema/`), then weft's mapping, which names every valid key
weft does not act on, and the checks across services (references, cycles).
"""

import ipaddress
import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator

from controlplane.stacks import graph
from controlplane.stacks.interpolate import interpolate
from controlplane.stacks.problems import Collector, ComposeInvalid, Problem
from controlplane.stacks.service import service_spec
from controlplane.stacks.spec import Attachment, NetworkSpec, ServiceSpec, StackSpec, VolumeSpec
from controlplane.stacks.yamlsafe import YamlProblem, load_document

STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TOP_KEYS = frozenset({"version", "name", "services", "networks", "volumes"})
NETWORK_KEYS = frozenset({"name", "driver", "driver_opts", "ipam"})
MAX_SCHEMA_PROBLEMS = 20


@cache
def _validator() -> Draft7Validator:
    text = resources.files("controlplane.stacks").joinpath("schema/compose-spec.json").read_text()
    return Draft7Validator(json.loads(text))


def parse_stack(
    compose: str | bytes | Mapping[str, Any],
    *,
    name: str | None = None,
    env_files: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
) -> StackSpec:
    """The stack a compose file (YAML text, or the same as a parsed mapping) describes.

    `name` overrides the file's top-level `name` (like `docker compose -p`);
    `env_files` holds the contents of the files `env_file:` names, by path.
    Raises ComposeInvalid with every problem found, each with its path.
    """
    if isinstance(compose, str | bytes):
        try:
            document = load_document(compose)
        except YamlProblem as exc:
            raise ComposeInvalid([Problem((), str(exc))], too_large=exc.too_large) from None
    else:
        document = dict(compose)
    if not isinstance(document, dict):
        raise ComposeInvalid([Problem((), "a compose file is a mapping with `services`")])
    c = Collector()
    document = interpolate(document, variables or {}, c)
    c.raise_if_any()
    _schema(document)
    stack = _map(document, name, env_files or {}, c)
    c.raise_if_any()
    assert stack is not None
    graph.check_references(stack, c)
    graph.check_cycles(stack, c)
    c.raise_if_any()
    return stack


def _schema(document: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.path)))
    if errors:
        problems = [Problem(tuple(e.absolute_path), _schema_message(e.message)) for e in errors]
        raise ComposeInvalid(problems[:MAX_SCHEMA_PROBLEMS])


def _schema_message(message: str) -> str:
    # jsonschema quotes whole sub-documents in some messages; keep the line readable.
    return message if len(message) <= 300 else message[:297] + "..."


def _map(
    document: dict[str, Any], name: str | None, env_files: Mapping[str, str], c: Collector
) -> StackSpec | None:
    c.unsupported(document, TOP_KEYS, ())
    stack_name = name or document.get("name")
    if not stack_name:
        c.add(("name",), "a stack needs a name (in the file or with the request)")
    elif not STACK_NAME.match(str(stack_name)):
        c.add(("name",), "a stack name is 1-40 lowercase letters, digits, - and _")
    services: dict[str, ServiceSpec] = {}
    for svc_name, raw in (document.get("services") or {}).items():
        spec = service_spec(str(svc_name), raw or {}, env_files, c)
        if spec is not None:
            services[spec.name] = spec
    if not document.get("services"):
        c.add(("services",), "a stack needs at least one service")
    networks = {n: _network(n, raw or {}, c) for n, raw in (document.get("networks") or {}).items()}
    volumes = {}
    for vol, raw in (document.get("volumes") or {}).items():
        c.unsupported(raw or {}, frozenset({"name"}), ("volumes", vol))
        volumes[str(vol)] = VolumeSpec(name=str(vol))
    if any(not svc.networks and svc.network_mode == "bridge" for svc in services.values()):
        networks.setdefault("default", NetworkSpec(name="default"))
        services = {
            n: s.model_copy(update={"networks": (Attachment(network="default"),)})
            if not s.networks and s.network_mode == "bridge"
            else s
            for n, s in services.items()
        }
    if c.problems or not stack_name:
        return None
    return StackSpec(name=str(stack_name), services=services, networks=networks, volumes=volumes)


def _network(name: str, raw: Mapping[str, Any], c: Collector) -> NetworkSpec:
    loc = ("networks", name)
    c.unsupported(raw, NETWORK_KEYS, loc)
    driver = raw.get("driver")
    if driver not in (None, "bridge", "overlay"):
        c.add((*loc, "driver"), "weft networks are bridge or overlay")
        driver = None
    opts = raw.get("driver_opts") or {}
    encrypted = "encrypted" in opts and str(opts["encrypted"]).lower() not in ("false", "0")
    c.unsupported(opts, frozenset({"encrypted"}), (*loc, "driver_opts"))
    if encrypted and driver == "bridge":
        c.add((*loc, "driver_opts", "encrypted"), "only overlay networks can be encrypted")
    subnet = None
    ipam = raw.get("ipam") or {}
    c.unsupported(ipam, frozenset({"config"}), (*loc, "ipam"))
    configs = ipam.get("config") or []
    if len(configs) > 1:
        c.add((*loc, "ipam", "config"), "one IPv4 subnet per network")
    for i, cfg in enumerate(configs[:1]):
        c.unsupported(cfg, frozenset({"subnet"}), (*loc, "ipam", "config", i))
        subnet = cfg.get("subnet")
        try:
            net = ipaddress.ip_network(subnet or "", strict=True)
        except ValueError:
            net = None
        if net is None or net.version != 4 or net.prefixlen > 30:
            c.add((*loc, "ipam", "config", i, "subnet"), "an IPv4 subnet like 10.42.0.0/24")
            subnet = None
        else:
            subnet = str(net)
    return NetworkSpec(name=name, driver=driver, subnet=subnet, encrypted=encrypted)
