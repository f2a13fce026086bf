"""A bridge network's subnet against the networks its host's engine already has."""

from controlplane.contract.schemas import EngineNetwork
from controlplane.server.services.enginenets import engine_clash
from tests.unit.cp_app import control_plane
from tests.unit.cp_fake_agent import DOCKER0

SEEN = [
    EngineNetwork(name="bridge", subnets=[DOCKER0]),
    EngineNetwork(name="host"),
    EngineNetwork(name="theirs", subnets=["10.9.0.0/16", "fd00::/64"]),
    EngineNetwork(name="ours", subnets=["10.20.0.0/24"], owner="cp1"),
]


def test_the_first_overlapping_engine_network_not_ours_is_the_clash() -> None:
    assert engine_clash("172.17.3.0/24", SEEN, "cp1") == SEEN[0]
    assert engine_clash("10.0.0.0/8", SEEN, "cp1") == SEEN[2]
    assert engine_clash("10.20.0.0/24", SEEN, "cp1") is None  # this control plane's own
    assert engine_clash("10.20.0.0/24", SEEN, "cp2") == SEEN[3]  # another's is the engine's
    assert engine_clash("192.168.7.0/24", SEEN, "cp1") is None


def test_a_subnet_on_docker0_is_refused_and_nothing_is_stored(tmp_path) -> None:
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        r = cp.client.post(
            "/networks", json={"name": "n", "host_id": hid, "subnet": "172.17.8.0/24"}
        )
        assert r.status_code == 409, r.text
        problem = r.json()
        assert r.headers["content-type"] == "application/problem+json"
        assert problem["errors"][0]["loc"] == ["body", "subnet"]
        assert "bridge" in problem["detail"] and DOCKER0 in problem["detail"]
        assert cp.client.get("/networks").json() == [] and not agent.networks
        # The agent away: the write goes ahead (the reconciler reports what Docker says).
        agent.down = True
        r = cp.client.post("/networks", json={"name": "m", "host_id": hid, "subnet": "10.3.0.0/24"})
        assert r.status_code == 201, r.text
