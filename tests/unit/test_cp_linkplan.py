"""Link addresses by network mode (pure): bridge, container:X, host (same or other host), none."""

from typing import Any

from controlplane.contract import schemas as agent
from controlplane.server.models import (
    Container,
    ContainerSpec,
    Host,
    Link,
    Network,
    ObservedRecord,
)
from controlplane.server.reconcile.desired import desired_state, observed_record
from controlplane.server.reconcile.linkplan import LinkWorld, link_address

_ids = iter(range(1, 1000))


def ctr(
    name: str, host: int = 1, observed: dict[str, Any] | ObservedRecord | None = None, **spec: Any
) -> Container:
    """A container row with the given spec fields and observed state."""
    return Container(
        id=next(_ids),
        name=name,
        host_id=host,
        spec=ContainerSpec.model_validate({"image": "i", **spec}),
        observed=ObservedRecord.model_validate(observed or {}),
    )


def on(net: str, addr: str, gateway: str | None = None) -> dict[str, Any]:
    """Observed state: running on one network."""
    seen: dict[str, Any] = {"state": "running", "addresses": {net: addr}}
    if gateway:
        seen["gateways"] = {net: gateway}
    return seen


def test_bridge_target_on_a_shared_network_first() -> None:
    web = ctr("web", networks=[{"network": "back"}], observed=on("back", "10.1.0.5"))
    db = ctr("db", observed={"addresses": {"front": "10.0.0.2", "back": "10.1.0.2"}})
    assert link_address(web, db, LinkWorld.of([web, db])) == "10.1.0.2"
    idle = ctr("idle")  # never ran: no address yet
    assert link_address(web, idle, LinkWorld.of([web, idle])) is None


def test_container_mode_target_is_reached_at_the_owner_of_its_stack() -> None:
    x = ctr("x", networks=[{"network": "n1"}], observed=on("n1", "10.1.0.9"))
    sidecar = ctr("sidecar", network_mode="container:x")
    deeper = ctr("deeper", network_mode="container:sidecar")
    web = ctr("web", networks=[{"network": "n1"}], observed=on("n1", "10.1.0.5"))
    world = LinkWorld.of([x, sidecar, deeper, web])
    assert link_address(web, sidecar, world) == "10.1.0.9"
    assert link_address(web, deeper, world) == "10.1.0.9"
    # X of another host with the same name is not it; a missing X gives no address.
    far = ctr("far", host=2, network_mode="container:x")
    assert link_address(web, far, LinkWorld.of([x, far, web])) is None
    # A cycle ends without an address.
    a = ctr("a", network_mode="container:b")
    b = ctr("b", network_mode="container:a")
    assert link_address(web, a, LinkWorld.of([a, b, web])) is None


def test_container_mode_source_sees_with_the_owner_of_its_stack() -> None:
    x = ctr("x", networks=[{"network": "back"}], observed=on("back", "10.1.0.9", "10.1.0.1"))
    src = ctr("src", network_mode="container:x")
    db = ctr("db", observed={"addresses": {"front": "10.0.0.2", "back": "10.1.0.2"}})
    api = ctr("api", network_mode="host")
    world = LinkWorld.of([x, src, db, api])
    assert link_address(src, db, world) == "10.1.0.2"
    assert link_address(src, api, world) == "10.1.0.1"


def test_host_mode_target_on_the_same_host_is_the_gateway_of_the_source() -> None:
    api = ctr("api", network_mode="host")
    web = ctr("web", networks=[{"network": "n1"}], observed=on("n1", "10.1.0.5", "10.1.0.254"))
    net = Network(id=1, name="n1", host_id=1, subnet="10.1.0.0/24", gateway="10.1.0.1")
    # The gateway the container reports wins over the recorded one.
    assert link_address(web, api, LinkWorld.of([api, web], [], [net])) == "10.1.0.254"
    fresh = ctr("fresh", networks=[{"network": "n1"}])  # not created yet
    assert link_address(fresh, api, LinkWorld.of([api, fresh], [], [net])) == "10.1.0.1"
    assert link_address(fresh, api, LinkWorld.of([api, fresh])) is None
    # Docker's default bridge: not in the database; a neighbour's report gives it.
    plain = ctr("plain")
    seen = ctr("seen", observed=on("bridge", "172.17.0.4", "172.17.0.1"))
    assert link_address(plain, api, LinkWorld.of([api, plain, seen])) == "172.17.0.1"
    other_host = ctr("other", host=2, observed=on("bridge", "172.18.0.4", "172.18.0.1"))
    assert link_address(plain, api, LinkWorld.of([api, plain, other_host])) is None
    # A host-mode source shares the host's stack: loopback.
    agent = ctr("agent", network_mode="host")
    assert link_address(agent, api, LinkWorld.of([api, agent])) == "127.0.0.1"


def test_host_mode_target_on_another_host_is_its_underlay_address() -> None:
    api = ctr("api", host=2, network_mode="host")
    web = ctr("web", host=1, observed=on("bridge", "172.17.0.5", "172.17.0.1"))
    hosts = [
        Host(id=1, name="h1", agent_url="http://a", agent_token="t", addresses=["192.0.2.1"]),
        Host(id=2, name="h2", agent_url="http://b", agent_token="t", addresses=["192.0.2.2", "x"]),
    ]
    assert link_address(web, api, LinkWorld.of([api, web], hosts)) == "192.0.2.2"
    assert link_address(web, api, LinkWorld.of([api, web], hosts[:1])) is None


def test_none_mode_on_either_end_has_no_address() -> None:
    off = ctr("off", network_mode="none")
    web = ctr("web", observed=on("bridge", "172.17.0.5", "172.17.0.1"))
    api = ctr("api", network_mode="host")
    world = LinkWorld.of([off, web, api])
    assert link_address(web, off, world) is None
    assert link_address(off, web, world) is None
    assert link_address(off, api, world) is None


def test_desired_state_carries_mode_aware_addresses_and_gateways_are_observed() -> None:
    state = agent.ContainerState(
        name="web",
        id="d1",
        image="i",
        status="running",
        running=True,
        networks={"n1": agent.NetworkEndpoint(ip_address="10.1.0.5", gateway="10.1.0.1")},
    )
    web = ctr(
        "web", networks=[{"network": "n1"}], observed=observed_record(state, ObservedRecord())
    )
    assert web.observed.gateways == {"n1": "10.1.0.1"}
    x = ctr("x", networks=[{"network": "n1"}], observed=on("n1", "10.1.0.9"))
    side = ctr("side", network_mode="container:x", exposed_ports=["9000"])
    api = ctr("api", network_mode="host", exposed_ports=["8080"])
    links = [
        Link(id=1, from_id=web.id or 0, to_id=side.id or 0, alias="SIDE"),
        Link(id=2, from_id=web.id or 0, to_id=api.id or 0, alias="API"),
    ]
    world = LinkWorld.of([web, x, side, api])
    _, ctrs = desired_state([], [web], links, world, "owner")
    got = [(t.alias, t.address, [p.port for p in t.ports]) for t in ctrs[0].spec.links]
    assert got == [("API", "10.1.0.1", [8080]), ("SIDE", "10.1.0.9", [9000])]
