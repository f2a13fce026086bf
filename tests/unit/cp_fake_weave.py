"""The fake agent's weave verbs: attach, detach, expose, hide, ps, reset (as the agent does).

Overlays are the fake's networks carrying the VNI label; an attach is an endpoint
added to the container's state (no restart: the same state object, the same id),
exposed addresses are kept per overlay, and reset empties what weft made.
"""

import ipaddress
from typing import TYPE_CHECKING, Any

import httpx

from controlplane.contract import schemas as A
from controlplane.contract.dns import DnsRecordSet
from controlplane.contract.overlay import VNI_LABEL
from controlplane.contract.weave import (
    AttachResult,
    AttachSpec,
    ExposeResult,
    OverlayEndpoint,
    ResetResult,
)

if TYPE_CHECKING:
    from tests.unit.cp_fake_agent import FakeAgent


def handle(agent: "FakeAgent", method: str, parts: list[str], body: Any) -> httpx.Response | None:
    """The answer to a weave verb, or None when the request is not one."""
    match (method, parts):
        case ("PUT", ["v1", "overlays", net, "containers", name]):
            return _attach(agent, net, name, AttachSpec.model_validate(body or {}))
        case ("DELETE", ["v1", "overlays", net, "containers", name]):
            state = agent.containers.get(name)
            if state is not None:
                state.networks.pop(net, None)
            return httpx.Response(204)
        case ("PUT", ["v1", "overlays", net, "exposed", address]):
            return _expose(agent, net, address)
        case ("DELETE", ["v1", "overlays", net, "exposed", address]):
            held = agent.exposed.get(net, [])
            agent.exposed[net] = [a for a in held if a.split("/")[0] != address]
            return httpx.Response(204)
        case ("GET", ["v1", "ps"]):
            return _json([e.model_dump(mode="json") for e in _ps(agent)])
        case ("POST", ["v1", "reset"]):
            return _json(_reset(agent).model_dump(mode="json"))
    return None


def _json(value: object) -> httpx.Response:
    return httpx.Response(200, json=value)


def _problem(status: int, detail: str, loc: list[str] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"type": "about:blank", "title": "error", "status": status}
    body["detail"] = detail
    if loc:
        body["errors"] = [{"loc": loc, "msg": detail}]
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


def _overlay(agent: "FakeAgent", net: str) -> A.NetworkState | None:
    state = agent.networks.get(net)
    return state if state is not None and VNI_LABEL in state.labels else None


def _mac(address: str) -> str:
    return "02:42:" + ":".join(f"{int(b):02x}" for b in address.split("."))


def _endpoint(net: str, name: str, prefix: int, ep: A.NetworkEndpoint) -> OverlayEndpoint:
    return OverlayEndpoint(
        overlay=net,
        kind="container",
        name=name,
        container_id=f"id-{name}",
        address=f"{ep.ip_address}/{prefix}",
        mac_address=ep.mac_address,
        aliases=sorted(ep.aliases),
    )


def _attach(agent: "FakeAgent", net: str, name: str, spec: AttachSpec) -> httpx.Response:
    network = _overlay(agent, net)
    state = agent.containers.get(name)
    if network is None or network.subnet is None or state is None:
        return _problem(404, f"no overlay {net} or container {name}")
    subnet = ipaddress.IPv4Network(network.subnet)
    if spec.ipv4_address and ipaddress.IPv4Address(spec.ipv4_address) not in subnet:
        return _problem(422, "outside the subnet", ["body", "ipv4_address"])
    have = state.networks.get(net)
    action = "attached"
    if have is not None:
        same_ip = spec.ipv4_address in (None, have.ip_address)
        if same_ip and sorted(have.aliases) == sorted(spec.aliases):
            endpoint = _endpoint(net, name, subnet.prefixlen, have)
            return _json(
                AttachResult(action="unchanged", endpoint=endpoint).model_dump(mode="json")
            )
        action = "reattached"
    address = agent._address(net, spec.ipv4_address)
    ep = A.NetworkEndpoint(ip_address=address, mac_address=_mac(address), aliases=spec.aliases)
    state.networks[net] = ep
    result = AttachResult.model_validate(
        {"action": action, "endpoint": _endpoint(net, name, subnet.prefixlen, ep)}
    )
    return _json(result.model_dump(mode="json"))


def _expose(agent: "FakeAgent", net: str, address: str) -> httpx.Response:
    network = _overlay(agent, net)
    if network is None or network.subnet is None:
        return _problem(404, f"no overlay {net}", ["path", "name"])
    subnet = ipaddress.IPv4Network(network.subnet)
    if ipaddress.IPv4Address(address) not in subnet or address == network.gateway:
        return _problem(422, "outside the subnet or the gateway", ["path", "address"])
    item = f"{address}/{subnet.prefixlen}"
    held = agent.exposed.setdefault(net, [])
    action = "unchanged" if item in held else "exposed"
    if action == "exposed":
        held.append(item)
    result = ExposeResult.model_validate(
        {
            "action": action,
            "overlay": net,
            "bridge": f"weftb{network.labels[VNI_LABEL]}",
            "addresses": sorted(held),
        }
    )
    return _json(result.model_dump(mode="json"))


def _ps(agent: "FakeAgent") -> list[OverlayEndpoint]:
    out = []
    for net, network in agent.networks.items():
        if VNI_LABEL not in network.labels or network.subnet is None:
            continue
        prefix = ipaddress.IPv4Network(network.subnet).prefixlen
        for name, state in agent.containers.items():
            if net in state.networks:
                out.append(_endpoint(net, name, prefix, state.networks[net]))
        bridge = f"weftb{network.labels[VNI_LABEL]}"
        out += [
            OverlayEndpoint(overlay=net, kind="host", name=bridge, address=a)
            for a in agent.exposed.get(net, [])
        ]
    return sorted(out, key=lambda e: (e.overlay, e.kind, e.name))


def _reset(agent: "FakeAgent") -> ResetResult:
    exposed = [f"{net}:{a}" for net, held in sorted(agent.exposed.items()) for a in held]
    result = ResetResult(
        containers=sorted(agent.containers),
        networks=sorted(agent.networks),
        exposed=exposed,
        dns_records=len(agent.dns.records),
    )
    agent.containers.clear()
    agent.specs.clear()
    agent.links.clear()
    agent.networks.clear()
    agent.overlays.clear()
    agent.exposed.clear()
    agent.dns = DnsRecordSet()
    return result
