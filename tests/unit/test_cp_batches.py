"""Which of a host's actions run side by side: consecutive container creates."""

import asyncio
import time
from pathlib import Path

import httpx

from controlplane.contract.schemas import ContainerSpec, NetworkSpec
from controlplane.server.reconcile import planner
from controlplane.server.reconcile.runner import _groups
from tests.eventually import eventually
from tests.unit.cp_app import control_plane
from tests.unit.cp_fake_agent import Agents


def _ctr(name: str, mode: str = "bridge") -> tuple[planner.Action, object]:
    spec = ContainerSpec(image="x", network_mode=mode)
    return planner.EnsureContainer(1, name, spec, "create"), None


def _net(name: str) -> tuple[planner.Action, object]:
    return planner.EnsureNetwork(1, name, NetworkSpec(subnet="10.9.0.0/24"), "create"), None


def _names(groups: list[list[tuple[planner.Action, object]]]) -> list[list[str]]:
    return [[a.name for a, _ in g] for g in groups]


def test_consecutive_creates_group_and_nothing_else_does() -> None:
    todo = [_net("n1"), _ctr("a"), _ctr("b"), _ctr("c"), _net("n2"), _ctr("d"), _ctr("e")]
    assert _names(_groups(todo)) == [["n1"], ["a", "b", "c"], ["n2"], ["d", "e"]]


def test_a_container_in_anothers_namespace_runs_alone_after_it() -> None:
    todo = [_ctr("owner"), _ctr("side", "container:owner"), _ctr("x")]
    assert _names(_groups(todo)) == [["owner"], ["side"], ["x"]]


class _TimedAgents(Agents):
    """Fake hosts whose container ensures take a while ("slow" ones longer)."""

    def __init__(self) -> None:
        super().__init__()
        self.running = self.peak = 0
        self.ended: dict[str, float] = {}

    def transport(self) -> httpx.MockTransport:
        async def handle(request: httpx.Request) -> httpx.Response:
            parts = request.url.path.strip("/").split("/")
            if request.method != "PUT" or parts[:2] != ["v1", "containers"] or len(parts) != 3:
                return self.route(request)
            self.running += 1
            self.peak = max(self.peak, self.running)
            try:
                await asyncio.sleep(1.2 if "slow" in parts[2] else 0.1)
            finally:
                self.running -= 1
            response = self.route(request)
            self.ended[parts[2]] = time.monotonic()
            return response

        return httpx.MockTransport(handle)


def test_a_slow_create_holds_one_place_while_the_others_go_on(tmp_path: Path) -> None:
    """At most `parallel_actions` at once, and no waiting for the group's slowest."""
    agents = _TimedAgents()
    with control_plane(tmp_path, agents=agents) as cp:
        hid, agent = cp.add_host()
        agent.down = True  # every container is written before a pass sees any
        names = ["a-slow", *(f"b{i}" for i in range(8))]
        for name in names:
            body = {"name": name, "host_id": hid, "image": "img"}
            assert cp.client.post("/containers", json=body).status_code == 201
        agent.down = False
        eventually(lambda: set(agents.ended) == set(names), timeout=20)
        assert agents.peak == cp.settings.parallel_actions == 4
        assert max(agents.ended[n] for n in names[1:]) < agents.ended["a-slow"]
