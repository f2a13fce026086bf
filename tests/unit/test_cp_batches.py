"""Which of a host's actions run at once: consecutive container creates, bounded."""

from controlplane.contract.schemas import ContainerSpec, NetworkSpec
from controlplane.server.reconcile import planner
from controlplane.server.reconcile.runner import _batches


def _ctr(name: str, mode: str = "bridge") -> tuple[planner.Action, object]:
    spec = ContainerSpec(image="x", network_mode=mode)
    return planner.EnsureContainer(1, name, spec, "create"), None


def _net(name: str) -> tuple[planner.Action, object]:
    return planner.EnsureNetwork(1, name, NetworkSpec(subnet="10.9.0.0/24"), "create"), None


def _names(batches: list[list[tuple[planner.Action, object]]]) -> list[list[str]]:
    return [[a.name for a, _ in b] for b in batches]


def test_creates_group_up_to_the_size_and_nothing_else_does() -> None:
    todo = [_net("n1"), _ctr("a"), _ctr("b"), _ctr("c"), _net("n2"), _ctr("d"), _ctr("e")]
    assert _names(_batches(todo, 2)) == [["n1"], ["a", "b"], ["c"], ["n2"], ["d", "e"]]
    assert _names(_batches(todo, 1)) == [[a.name] for a, _ in todo]


def test_a_container_in_anothers_namespace_runs_alone_after_it() -> None:
    todo = [_ctr("owner"), _ctr("side", "container:owner"), _ctr("x")]
    assert _names(_batches(todo, 4)) == [["owner"], ["side"], ["x"]]
