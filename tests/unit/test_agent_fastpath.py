"""The overlay fast path's ruleset, as a pure function of what the host has."""

import pytest

from controlplane.agent.overlay.fastpath import Endpoint, Plan, local_networks, ruleset

A = Endpoint(mac="02:42:0a:2c:01:05", address="10.44.1.5", port="veth1a2b3c4")
B = Endpoint(mac="02:42:0a:2c:01:06", address="10.44.7.9", port="veth5d6e7f8")


def _plan(*endpoints: Endpoint, local: tuple[str, ...] = ("10.44.1.0/24",)) -> Plan:
    return Plan(
        vni=4201,
        subnet="10.44.0.0/16",
        bridge_mac="02:42:5e:fe:ce:86",
        local=local,
        endpoints=endpoints,
    )


def test_each_container_is_a_tx_hook_and_an_rx_map_entry() -> None:
    text = ruleset(_plan(A, B))
    assert text.startswith("table netdev weft_fp_4201 {}\ndelete table netdev weft_fp_4201\n")
    assert 'devices = { "veth1a2b3c4", "veth5d6e7f8" }' in text
    assert 'device "weftv4201"' in text
    assert (
        'fwd to ether daddr map { 02:42:0a:2c:01:05 : "veth1a2b3c4",'
        ' 02:42:0a:2c:01:06 : "veth5d6e7f8" }'
    ) in text
    # Only unicast frames to the subnet's addresses off this host, never to the bridge.
    tx = next(line for line in text.splitlines() if 'fwd to "weftv4201"' in line)
    assert "ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00" in tx
    assert "ether daddr != 02:42:5e:fe:ce:86" in tx
    assert "ip daddr 10.44.0.0/16 ip daddr != { 10.44.1.0/24 }" in tx


def test_no_container_means_no_table() -> None:
    text = ruleset(_plan())
    assert text == "table netdev weft_fp_4201 {}\ndelete table netdev weft_fp_4201\n"


def test_the_hosts_own_addresses_collapse_into_its_range() -> None:
    # Containers inside the range add nothing; one attached with an address outside
    # it (another host's range, or none) is kept on its own.
    local = local_networks("10.44.1.0/24", ["10.44.1.5", "10.44.7.9", "10.44.7.10"])
    assert local == ("10.44.1.0/24", "10.44.7.9/32", "10.44.7.10/32")
    assert "ip daddr != { 10.44.1.0/24, 10.44.7.9/32, 10.44.7.10/32 }" in ruleset(
        _plan(A, B, local=local)
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"port": 'veth0" ; flush ruleset ; "'},
        {"port": "a-name-longer-than-15"},
        {"mac": "02:42:0A:2C:01:05 }"},
        {"address": "10.44.1.5 }"},
    ],
)
def test_names_that_could_change_the_ruleset_are_refused(bad: dict[str, str]) -> None:
    fields = {"mac": A.mac, "address": A.address, "port": A.port, **bad}
    with pytest.raises(ValueError):
        Endpoint(**fields)
