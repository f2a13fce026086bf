"""`weft attach|detach|expose|hide|ps|reset` against a MockTransport control plane."""

import json

import httpx

from tests.unit.test_cli_commands import HOST, NET, WEB, FakeControlPlane, cp, weft  # noqa: F401

OVL = str(NET["name"])
ATTACH = f"/containers/{WEB['id']}/overlays/{NET['id']}"
EXPOSED = {
    "host_id": 1,
    "host": "h1",
    "network_id": NET["id"],
    "network": NET["name"],
    "address": "10.32.1.9",
    "prefix": 16,
}


def test_attach_and_detach_by_name_with_aliases_and_wait(cp: FakeControlPlane) -> None:  # noqa: F811
    cp.route("PUT", ATTACH, {**WEB, "status": "converged"})
    result = weft(cp, "attach", "web", OVL, "--alias", "www", "--alias", "w2", "--wait")
    assert result.exit_code == 0, result.output
    sent = cp.sent("PUT", ATTACH)
    assert json.loads(sent.content) == {"aliases": ["www", "w2"]}
    assert sent.url.params["wait"] == "true"
    assert f"web on {NET['name']}: converged" in result.output
    cp.route("DELETE", ATTACH, {**WEB, "status": "failed", "status_reason": "agent said no"})
    result = weft(cp, "detach", "web", OVL, "--wait")
    assert result.exit_code == 1 and "agent said no" in result.output
    assert weft(cp, "attach", "nosuch", OVL).exit_code == 1


def test_a_refused_attach_prints_the_field_at_fault(cp: FakeControlPlane) -> None:  # noqa: F811
    problem = {
        "type": "about:blank",
        "title": "Invalid",
        "status": 422,
        "detail": f"network {NET['name']} is a bridge network, not an overlay",
        "errors": [{"loc": ["path", "network_id"], "msg": "bridge"}],
    }
    cp.route("PUT", ATTACH, lambda r: httpx.Response(422, json=problem))
    result = weft(cp, "attach", "web", OVL)
    assert result.exit_code == 1
    assert "not an overlay" in result.output and "network_id" in result.output


def test_expose_hide_ps_and_reset(cp: FakeControlPlane) -> None:  # noqa: F811
    path = f"/hosts/1/exposed/{NET['id']}"
    cp.route("PUT", path, EXPOSED)
    result = weft(cp, "expose", "h1", OVL)
    assert result.exit_code == 0 and "h1 on wefttestnet: 10.32.1.9/16" in result.output
    cp.route("DELETE", path, 204)
    assert weft(cp, "hide", "h1", OVL, "--wait").exit_code == 0
    assert cp.sent("DELETE", path).url.params["wait"] == "true"

    endpoint = {
        "overlay": NET["name"],
        "kind": "container",
        "name": "web",
        "container_id": "abc",
        "address": "10.32.1.2/16",
        "mac_address": "02:42:0a:20:01:02",
        "aliases": ["www"],
    }
    report = [
        {"host_id": 1, "host": "h1", "reachable": True, "reason": None, "endpoints": [endpoint]},
        {"host_id": 2, "host": "h2", "reachable": False, "reason": "timed out", "endpoints": []},
    ]
    cp.route("GET", "/ps", report)
    result = weft(cp, "ps")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.startswith("h")]
    assert rows[0] == [
        "h1",
        NET["name"],
        "container",
        "web",
        "10.32.1.2/16",
        "02:42:0a:20:01:02",
        "www",
    ]
    assert rows[1][:3] == ["h2", "unreachable:", "timed"]
    assert weft(cp, "ps", "--host", "h1").exit_code == 0
    assert cp.sent("GET", "/ps").url.params["host_id"] == "1"

    removed = {
        "containers": ["web"],
        "networks": [NET["name"]],
        "devices": ["weftv1"],
        "tunnels": [],
        "processes": [],
        "exposed": [],
        "dns_records": 2,
    }
    forgotten = {
        "containers": ["web"],
        "networks": [],
        "overlays_handed_over": [],
        "overlays_removed": [],
        "peerings": ["h1-h2"],
        "exposed": [],
    }
    done = {"host_id": 1, "host": "h1", "removed": removed, "forgotten": forgotten}
    cp.route("POST", "/hosts/1/reset", done)
    result = weft(cp, "reset", "h1")
    assert result.exit_code == 0, result.output
    assert "removed 1 containers, 1 networks, 1 devices, 0 tunnels; forgot 1 peerings" in (
        result.output
    )
