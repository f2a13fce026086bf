"""The test cluster's layout: names fit the kernel's limits, addresses fit the underlay."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlplane.devcluster.layout import MAX_HOSTS, ClusterLayout, pick_underlay

names = st.from_regex(r"[a-z][a-z0-9]{1,9}", fullmatch=True)


@given(names, st.integers(1, MAX_HOSTS))
def test_interface_names_fit_and_addresses_are_distinct_inside_the_underlay(
    name: str, count: int
) -> None:
    layout = ClusterLayout(name, "10.231.7.0/24", count)
    hosts = layout.hosts()
    for link in (layout.bridge, layout.root_port, layout.uplink, layout.switch):
        assert len(link) <= 15
    for h in hosts:
        assert len(h.switch_port) <= 15
        assert len(str(h.exec_root / "containerd" / "containerd.sock")) < 108
        assert ipaddress.ip_address(h.address) in layout.network
    addresses = [layout.root_address, *(h.address for h in hosts)]
    assert len(set(addresses)) == len(addresses)
    assert len({h.name for h in hosts}) == count


@pytest.mark.parametrize(
    ("name", "underlay", "count"),
    [
        ("Bad", "10.231.0.0/24", 2),  # upper case
        ("x", "10.231.0.0/24", 2),  # too short
        ("waytoolongname", "10.231.0.0/24", 2),  # interface names would not fit
        ("ok", "10.231.0.0/28", 2),  # too small
        ("ok", "10.231.0.0/24", 0),
        ("ok", "fd00::/64", 2),  # IPv4 only
    ],
)
def test_bad_layouts_are_refused(name: str, underlay: str, count: int) -> None:
    with pytest.raises(ValueError):
        ClusterLayout(name, underlay, count)


def test_the_underlay_avoids_routed_prefixes() -> None:
    first = pick_underlay("wefttc", [])
    assert pick_underlay("wefttc", []) == first  # stable for a name
    second = pick_underlay("wefttc", [first, "192.0.2.0/24"])
    assert second != first
    assert ipaddress.IPv4Network(second).subnet_of(ipaddress.IPv4Network("10.231.0.0/16"))
    with pytest.raises(ValueError):
        pick_underlay("wefttc", ["10.231.0.0/16"])
