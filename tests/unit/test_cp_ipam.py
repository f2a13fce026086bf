"""Central IPAM (pure): subnets from the pool, per-host blocks, addresses never twice."""

import ipaddress
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controlplane.server.reconcile import ipam

SUBNET = "10.32.0.0/22"  # four /24 blocks: small, so exhaustion is reachable
hosts = st.sampled_from(["h1", "h2", "h3", "h4", "h5"])


def test_subnets_come_from_the_pool_without_overlap() -> None:
    first = ipam.pick_subnet(ipam.DEFAULT_POOL, 16, [])
    assert first == "10.32.0.0/16"
    assert ipam.pick_subnet(ipam.DEFAULT_POOL, 16, [first, "10.33.5.0/24"]) == "10.34.0.0/16"
    assert ipam.overlapping("10.33.0.0/16", [first, "10.33.5.0/24"]) == ["10.33.5.0/24"]
    with pytest.raises(ipam.IpamError):
        ipam.pick_subnet("10.32.0.0/15", 16, ["10.32.0.0/16", "10.33.0.0/16"])
    with pytest.raises(ipam.IpamError):
        ipam.pick_subnet("10.32.0.0/16", 12, [])


def test_a_host_grows_by_blocks_and_its_gateway_is_never_handed_out() -> None:
    plan = ipam.plan_ranges(SUBNET, 24, {}, {"h1": 1, "h2": 1})
    assert plan.ranges == {"h1": ["10.32.0.0/24"], "h2": ["10.32.1.0/24"]}
    assert ipam.gateway(SUBNET, plan.ranges["h1"]) == "10.32.0.1"  # .0 is the subnet's
    assert ipam.allocate(SUBNET, plan.ranges["h1"], []) == "10.32.0.2"
    grown = ipam.plan_ranges(SUBNET, 24, plan.ranges, {"h1": 300, "h2": 1})
    assert grown.ranges["h1"] == ["10.32.0.0/24", "10.32.2.0/24"]
    assert grown.added == {"h1": ["10.32.2.0/24"]} and grown.released == []
    gone = ipam.plan_ranges(SUBNET, 24, grown.ranges, {"h2": 1})
    assert gone.ranges == {"h2": ["10.32.1.0/24"]}
    assert gone.released == ["10.32.0.0/24", "10.32.2.0/24"]
    with pytest.raises(ipam.IpamError, match="h3"):
        ipam.plan_ranges(SUBNET, 24, grown.ranges, {"h1": 1, "h2": 1, "h3": 600})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["run", "stop", "leave"]), hosts, st.integers(0, 40)),
        max_size=60,
    )
)
def test_no_address_is_ever_handed_out_twice(steps: list[tuple[str, str, int]]) -> None:
    """Containers start and stop, hosts leave; blocks never overlap, addresses stay unique,
    each host only uses its own blocks, and a host that left holds nothing."""
    ranges: dict[str, list[str]] = {}
    live: dict[str, set[str]] = {}  # host -> addresses of its live containers
    net = ipaddress.IPv4Network(SUBNET)
    for verb, host, n in steps:
        if verb == "run":
            demand = {h: len(a) for h, a in live.items()}
            demand[host] = len(live.get(host, set())) + 1
            try:
                plan = ipam.plan_ranges(SUBNET, 24, ranges, demand)
            except ipam.IpamError:
                continue  # full: nothing changed
            ranges = plan.ranges
            addr = ipam.allocate(SUBNET, ranges[host], live.get(host, set()))
            live.setdefault(host, set()).add(addr)
        elif verb == "stop" and live.get(host):
            live[host].discard(sorted(live[host])[n % len(live[host])])
        elif verb == "leave":
            live.pop(host, None)
            plan = ipam.plan_ranges(SUBNET, 24, ranges, {h: len(a) for h, a in live.items()})
            ranges = plan.ranges
            assert host not in ranges
        blocks = [ipaddress.IPv4Network(b) for bs in ranges.values() for b in bs]
        assert all(b.subnet_of(net) for b in blocks)
        assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
        everything = [a for addrs in live.values() for a in addrs]
        assert len(everything) == len(set(everything))
        for h, addrs in live.items():
            gw = ipam.gateway(SUBNET, ranges[h])
            for a in addrs:
                ip = ipaddress.IPv4Address(a)
                assert any(ip in ipaddress.IPv4Network(b) for b in ranges[h])
                assert a != gw and ip not in (net.network_address, net.broadcast_address)


@given(st.dictionaries(hosts, st.integers(1, 500), max_size=4))
def test_capacity_meets_demand_or_the_plan_says_full(demand: dict[str, int]) -> None:
    try:
        plan = ipam.plan_ranges(SUBNET, 24, {}, demand)
    except ipam.IpamError:
        # Each block holds at least 254 usable addresses; had the worst case fit, it must not fail.
        assert sum(math.ceil((need + 1) / 254) for need in demand.values()) > 4
        return
    for h, need in demand.items():
        assert ipam.capacity(SUBNET, plan.ranges[h]) >= need
