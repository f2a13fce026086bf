"""`weft connect|forget|status` against a MockTransport control plane."""

import json

import httpx

from tests.unit.test_cli_commands import HOST, FakeControlPlane, cp, weft  # noqa: F401

H2 = {**HOST, "id": 2, "name": "h2", "agent_url": "http://10.0.0.2:7946"}
PEERING = {
    "id": 7,
    "a": 1,
    "b": 2,
    "a_name": "h1",
    "b_name": "h2",
    "last_check": {"reachable": False, "reason": "h1 -> h2: timed out", "datapath": "vxlan"},
    "created_at": "2026-11-30T03:00:00Z",
}


def test_connect_forget_and_status_by_host_name(cp: FakeControlPlane) -> None:  # noqa: F811
    cp.route("GET", "/hosts", [HOST, H2])
    cp.route("POST", "/peerings", lambda r: httpx.Response(201, json=PEERING))
    result = weft(cp, "connect", "h1", "h2")
    assert result.exit_code == 0, result.output
    assert json.loads(cp.sent("POST", "/peerings").content) == {"a": 1, "b": 2}
    assert "peering 7: h1 - h2 (unreachable: h1 -> h2: timed out)" in result.output

    cp.route("GET", "/peerings", [PEERING])
    cp.route("DELETE", "/peerings/7", 204)
    result = weft(cp, "forget", "h2", "h1")
    assert result.exit_code == 0 and "forgot peering 7" in result.output
    cp.route("GET", "/peerings", [])
    result = weft(cp, "forget", "h2", "h1")
    assert result.exit_code == 1 and "not peered" in result.output

    peer = {
        "host_id": 2,
        "name": "h2",
        "address": "10.0.0.2",
        "direct": True,
        "peering_id": 7,
        "reachable": True,
        "datapath": "vxlan",
        "encrypted": False,
        "mtu": 1450,
        "rtt_ms": 0.3,
        "reason": None,
        "checked_at": "2026-11-30T03:00:00Z",
    }
    cp.route(
        "GET", "/hosts/1/peers", {"host_id": 1, "name": "h1", "mesh": ["h1", "h2"], "peers": [peer]}
    )
    result = weft(cp, "status", "peers", "--host", "h1")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("h1")).split()
    assert row[:8] == ["h1", "h2", "10.0.0.2", "direct", "yes", "vxlan", "1450", "0.3"]
    assert weft(cp, "status", "routes").exit_code == 2  # a usage error


def test_status_dns_and_ipam(cp: FakeControlPlane) -> None:  # noqa: F811
    record = {"name": "srv", "addresses": ["10.32.2.2", "10.32.1.2"]}
    dns = [{"host_id": 1, "name": "h1", "domain": "weave.local", "ttl": 1, "records": [record]}]
    cp.route("GET", "/dns", dns)
    result = weft(cp, "status", "dns")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("h1")).split()
    assert row == ["h1", "srv.weave.local", "10.32.2.2", "10.32.1.2", "1"]
    ipam = {
        "network_id": 3,
        "name": "ov",
        "subnet": "10.32.0.0/16",
        "vni": 1,
        "blocks": [{"host_id": 2, "host": "h2", "block": "10.32.1.0/24"}],
        "addresses": [
            {
                "container_id": 5,
                "container": "db",
                "host_id": 2,
                "host": "h2",
                "address": "10.32.1.2",
            }
        ],
    }
    cp.route("GET", "/ipam", [ipam])
    result = weft(cp, "status", "ipam", "--host", "h2")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.startswith("ov")]
    assert rows == [
        ["ov", "10.32.0.0/16", "h2", "block", "10.32.1.0/24"],
        ["ov", "10.32.0.0/16", "h2", "db", "10.32.1.2"],
    ]
    assert json.loads(weft(cp, "status", "ipam", "--json").output) == [ipam]
