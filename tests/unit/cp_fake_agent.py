"""An in-memory agent behind httpx.MockTransport: the control plane's HTTP test seam.

It speaks the agent's wire schemas (controlplane.contract.schemas) with the agent's
semantics: idempotent ensure by spec hash, label-filtered lists, addresses
allocated from a network's subnet (a recreate takes the next free one, as
Docker's allocator does), and switches to go down or reject the token.
"""

import ipaddress
import json
from dataclasses import dataclass, field

import httpx

from controlplane.contract import labels as L
from controlplane.contract import schemas as A
from controlplane.contract.dns import DnsRecordSet, DnsState
from controlplane.contract.overlay import (
    VNI_LABEL,
    OverlayEnsureResult,
    OverlaySpec,
    OverlayState,
    bridge_name,
    vxlan_name,
)
from tests.unit import cp_fake_weave
from tests.unit.cp_fake_tunnel import FakeTunnel

TOKEN = "agent-secret"
# The subnet the fake engine's docker0 (network "bridge") has: Docker's default.
DOCKER0 = "172.17.0.0/16"
# What the fake's `docker save` streams: this prefix and the image's reference.
_TARBALL = b"fake-docker-save:"


@dataclass
class FakeAgent:
    """State of one fake host."""

    hostname: str = "fakehost"
    # The underlay addresses it reports (where other hosts' VXLAN reaches it).
    addresses: list[str] = field(default_factory=lambda: ["127.0.0.1"])
    token: str = TOKEN
    down: bool = False
    missing_images: set[str] = field(default_factory=set)
    # Networks on the engine that no weft made (another control plane's, or by hand).
    outside_networks: dict[str, str] = field(default_factory=dict)
    # Image ids by reference ("sha256:<ref>" when not given): change one to "rebuild" it.
    image_ids: dict[str, str] = field(default_factory=dict)
    # Images whose health check fails (others with a check report healthy at once).
    unhealthy_images: set[str] = field(default_factory=set)
    # Images whose health check never passes nor fails (a start that never ends).
    starting_images: set[str] = field(default_factory=set)
    networks: dict[str, A.NetworkState] = field(default_factory=dict)
    containers: dict[str, A.ContainerState] = field(default_factory=dict)
    specs: dict[str, A.ContainerSpec] = field(default_factory=dict)
    volumes: dict[str, A.VolumeState] = field(default_factory=dict)
    links: dict[str, list[A.LinkTarget]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    overlays: dict[str, OverlayState] = field(default_factory=dict)
    dns: DnsRecordSet = field(default_factory=DnsRecordSet)
    next_host: dict[str, int] = field(default_factory=dict)
    # The Docker engine's ID it reports ("engine-<hostname>" when empty).
    engine_id: str = ""
    # Set: something that is not an agent answers at the URL, always with this.
    impostor: httpx.Response | None = None
    # The host's exposed addresses per overlay (ip/prefix), for the weave verbs.
    exposed: dict[str, list[str]] = field(default_factory=dict)
    # Its WireGuard key and interface.
    tunnel: FakeTunnel = field(default_factory=FakeTunnel)

    def transport(self) -> httpx.MockTransport:
        """A transport answering like the agent."""
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Route one request."""
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.impostor is not None:
            return self.impostor
        path = request.url.path
        self.calls.append((request.method, path))
        if path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _problem(401, "Unauthorized", "bad token")
        parts = path.strip("/").split("/")
        is_json = request.headers.get("content-type") == "application/json"
        body = json.loads(request.content) if request.content and is_json else None
        match (request.method, parts):
            case ("GET", ["v1", "info"]):
                return _ok(
                    A.AgentInfo(
                        hostname=self.hostname,
                        agent_version="0",
                        owner="weft",
                        docker_version="20.10",
                        docker_api_version="1.41",
                        addresses=self.addresses,
                        cpus=2,
                        memory_bytes=1,
                        engine_id=self.engine_id or f"engine-{self.hostname}",
                    )
                )
            case ("GET", ["v1", "engine", "networks"]):
                return _ok(self._engine_networks())
            case ("GET", ["v1", "networks"]):
                return _ok([n for n in self.networks.values() if _match(n.labels, request)])
            case ("PUT", ["v1", "networks", name]):
                return self._ensure_network(name, A.NetworkSpec.model_validate(body))
            case ("DELETE", ["v1", "networks", name]):
                self.networks.pop(name, None)
                return httpx.Response(204)
            case ("GET", ["v1", "containers"]):
                return _ok([c for c in self.containers.values() if _match(c.labels, request)])
            case ("PUT", ["v1", "containers", name]):
                return self._ensure_container(name, A.ContainerSpec.model_validate(body))
            case ("PUT", ["v1", "containers", name, "links"]):
                self.links[name] = A.LinksSpec.model_validate(body).links
                return _ok(A.LinksState(name=name, links=self.links[name]))
            case ("POST", ["v1", "containers", name, "restart"]):
                return self._restart(name)
            case ("GET", ["v1", "containers", name, "logs"]):
                return _ok(A.Logs(name=name, text=f"logs of {name}\n"))
            case ("DELETE", ["v1", "containers", name]):
                self.containers.pop(name, None)
                self.specs.pop(name, None)
                return httpx.Response(204)
            case ("GET", ["v1", "overlays"]):
                return _ok(
                    [
                        o.model_copy(update={"exposed": sorted(self.exposed.get(o.name, []))})
                        for o in self.overlays.values()
                    ]
                )
            case ("PUT", ["v1", "overlays", name]):
                return self._ensure_overlay(name, OverlaySpec.model_validate(body))
            case ("DELETE", ["v1", "overlays", name]):
                self.overlays.pop(name, None)
                self.networks.pop(name, None)
                return httpx.Response(204)
            case ("GET", ["v1", "changes"]):  # as an agent that does not watch events
                return _problem(409, "Conflict", "this agent does not watch the engine's events")
            case ("GET", ["v1", "dns"]):
                return _ok(DnsState(**self.dns.model_dump()))
            case ("PUT", ["v1", "dns"]):
                self.dns = DnsRecordSet.model_validate(body)
                return _ok(DnsState(**self.dns.model_dump()))
            # Every image is here but `missing_images`; its id is made from its reference.
            case ("GET", ["v1", "images", *ref, "tarball"]) if self._has("/".join(ref)):
                return httpx.Response(200, content=_TARBALL + "/".join(ref).encode())
            case ("GET", ["v1", "images", *ref]) if self._has("/".join(ref)):
                image = "/".join(ref)
                image_id = self.image_ids.get(image, f"sha256:{image}")
                return _ok(A.ImageInfo(id=image_id, tags=[image]))
            case ("PUT", ["v1", "images"]) if request.content.startswith(_TARBALL):
                loaded = request.content[len(_TARBALL) :].decode()
                self.missing_images.discard(loaded)
                return _ok(A.ImageLoadResult(tags=[loaded]))
            case ("GET", ["v1", "volumes"]):
                return _ok(
                    [
                        self._volume(v)
                        for v in self.volumes
                        if _match(self.volumes[v].labels, request)
                    ]
                )
            case ("DELETE", ["v1", "volumes", name]):
                if name in self.volumes and self._volume(name).in_use_by:
                    return _problem(409, "Conflict", f"volume {name} is in use")
                self.volumes.pop(name, None)
                return httpx.Response(204)
        tunnel = self.tunnel.handle(request.method, parts, request.url.params, body)
        if tunnel is not None:
            return tunnel
        weave = cp_fake_weave.handle(self, request.method, parts, body)
        return weave if weave is not None else _problem(404, "Not found", path)

    def _engine_networks(self) -> list[A.EngineNetwork]:
        """Docker's three predefined networks (docker0's default subnet), then weft's."""
        out = [
            A.EngineNetwork(name="bridge", subnets=[DOCKER0]),
            A.EngineNetwork(name="host"),
            A.EngineNetwork(name="none"),
        ]
        out += [
            A.EngineNetwork(name=n, subnets=[s.subnet or ""], owner=s.labels.get(L.OWNER))
            for n, s in self.networks.items()
        ]
        out += [A.EngineNetwork(name=n, subnets=[s]) for n, s in self.outside_networks.items()]
        return sorted(out, key=lambda n: n.name)

    def _has(self, image: str) -> bool:
        return image not in self.missing_images

    def _volume(self, name: str) -> A.VolumeState:
        users = sorted(
            c for c, spec in self.specs.items() if any(m.source == name for m in spec.mounts)
        )
        return self.volumes[name].model_copy(update={"in_use_by": users})

    def _ensure_network(self, name: str, spec: A.NetworkSpec) -> httpx.Response:
        labels = L.managed_labels("weft", spec.labels)
        state = A.NetworkState(
            name=name,
            id=f"net-{name}",
            driver="bridge",
            subnet=spec.subnet,
            gateway=spec.gateway,
            labels=labels,
        )
        action = "unchanged" if self.networks.get(name) == state else "created"
        self.networks[name] = state
        return _ok(A.NetworkEnsureResult(action=action, network=state))

    def _ensure_overlay(self, name: str, spec: OverlaySpec) -> httpx.Response:
        labels = L.managed_labels("weft", {**spec.labels, VNI_LABEL: str(spec.vni)})
        network = A.NetworkState(
            name=name,
            id=f"net-{name}",
            driver="bridge",
            subnet=spec.subnet,
            gateway=spec.gateway,
            ip_range=spec.ip_range,
            labels=labels,
        )
        state = OverlayState(
            name=name,
            vni=spec.vni,
            device=vxlan_name(spec.vni),
            bridge=bridge_name(spec.vni),
            local=spec.local,
            port=spec.port,
            mtu=spec.mtu or 1450,
            peers=sorted(p.address for p in spec.peers),
            network=network,
        )
        action = "unchanged" if self.overlays.get(name) == state else "created"
        self.overlays[name], self.networks[name] = state, network
        return _ok(OverlayEnsureResult(action=action, overlay=state))

    def _restart(self, name: str) -> httpx.Response:
        """Same container; a dynamic address moves (Docker may hand out another)."""
        state = self.containers.get(name)
        if state is None:
            return _problem(404, "Not found", name)
        spec = self.specs[name]
        fixed = {a.name: a.ipv4_address for a in spec.networks}
        for net, ep in state.networks.items():
            if not fixed.get(net):
                ep.ip_address = self._address(net, None)
        self.restarts = getattr(self, "restarts", 0) + 1
        return _ok(state)

    def _address(self, network: str, fixed: str | None) -> str:
        if fixed:
            return fixed
        known = self.networks.get(network)
        net = ipaddress.ip_network(known.subnet if known and known.subnet else DOCKER0)
        n = self.next_host.get(network, 2)
        self.next_host[network] = n + 1
        return str(net.network_address + n)

    def _ensure_container(self, name: str, spec: A.ContainerSpec) -> httpx.Response:
        if spec.image in self.missing_images:
            return _problem(422, "Image not found", f"no such image: {spec.image}")
        h = spec.computed_hash()
        old = self.containers.get(name)
        if old is not None and old.spec_hash == h:
            if old.status == "created":
                old.status, old.running = "running", True
                return _ok(A.ContainerEnsureResult(action="started", container=old))
            return _ok(A.ContainerEnsureResult(action="unchanged", container=old))
        for att in spec.networks:
            if att.name not in self.networks:
                return _problem(404, "Not found", f"network {att.name} not found")
        nets = {
            a.name: A.NetworkEndpoint(ip_address=self._address(a.name, a.ipv4_address))
            for a in spec.networks
        }
        if not spec.networks and spec.network_mode == "bridge":
            nets["bridge"] = A.NetworkEndpoint(ip_address=self._address("bridge", None))
        checked = spec.healthcheck is not None and spec.healthcheck.test != ["NONE"]
        health = "none" if not checked else "healthy"
        if checked and spec.image in self.unhealthy_images:
            health = "unhealthy"
        elif checked and spec.image in self.starting_images:
            health = "starting"
        state = A.ContainerState(
            name=name,
            id=f"id-{name}-{len(self.calls)}",
            image=spec.image,
            status="running" if health == "none" else health,
            running=True,
            health=health,
            spec_hash=h,
            network_mode=spec.network_mode,
            networks=nets,
            labels=L.managed_labels("weft", spec.labels),
        )
        self.containers[name] = state
        self.specs[name] = spec
        for m in spec.mounts:
            if m.type == "volume" and m.source not in self.volumes:
                labels = L.managed_labels("weft", spec.labels)
                self.volumes[m.source] = A.VolumeState(name=m.source, labels=labels)
        self.links[name] = spec.links
        action = "recreated" if old else "created"
        return _ok(A.ContainerEnsureResult(action=action, container=state))


def _match(labels: dict[str, str], request: httpx.Request) -> bool:
    for item in request.url.params.get_list("label"):
        k, _, v = item.partition("=")
        if labels.get(k) != v:
            return False
    return True


def _ok(value: object) -> httpx.Response:
    if isinstance(value, list):
        return httpx.Response(200, json=[v.model_dump(mode="json") for v in value])
    assert hasattr(value, "model_dump")
    return httpx.Response(200, json=value.model_dump(mode="json"))


def _problem(status: int, title: str, detail: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": "about:blank", "title": title, "status": status, "detail": detail},
        headers={"content-type": "application/problem+json"},
    )


class Agents:
    """Several fake hosts behind one transport, told apart by URL host name."""

    def __init__(self) -> None:
        self.hosts: dict[str, FakeAgent] = {}

    def add(self, name: str) -> FakeAgent:
        """A fake agent answering at http://<name>:7000."""
        self.hosts[name] = FakeAgent(hostname=name)
        return self.hosts[name]

    def transport(self) -> httpx.MockTransport:
        """One transport for all of them (unknown hosts: connection refused)."""
        return httpx.MockTransport(self.route)

    def route(self, request: httpx.Request) -> httpx.Response:
        """The answer of the host the request is for."""
        agent = self.hosts.get(request.url.host)
        if agent is None:
            raise httpx.ConnectError("no route to host", request=request)
        return agent.handle(request)
