"""The pure reconcile planner and link planning: no I/O, no fixtures."""

from hypothesis import given, settings
from hypothesis import strategies as st

from controlplane.contract import labels
from controlplane.contract import schemas as agent
from controlplane.server.models import (
    Container,
    ContainerSpec,
    Link,
    Network,
    NetworkAttachment,
    ObservedRecord,
)
from controlplane.server.reconcile import planner
from controlplane.server.reconcile.desired import container_spec, desired_state, network_spec
from controlplane.server.reconcile.linkplan import LinkWorld, link_target, target_address

OWNER = "weft-cp-test"


def _ctr(name: str, **spec) -> planner.DesiredContainer:
    return planner.DesiredContainer(1, name, agent.ContainerSpec(image="img", **spec), [])


def _state(d: planner.DesiredContainer, status: str = "running") -> agent.ContainerState:
    return agent.ContainerState(
        name=d.name,
        id=d.name,
        image="img",
        status=status,
        running=status == "running",
        spec_hash=d.spec.computed_hash(),
    )


def _net(name: str, subnet: str) -> planner.DesiredNetwork:
    return planner.DesiredNetwork(
        1, name, agent.NetworkSpec(subnet=subnet, gateway=subnet[:-4] + "1")
    )


def _net_state(d: planner.DesiredNetwork) -> agent.NetworkState:
    return agent.NetworkState(
        name=d.name, id=d.name, driver="bridge", subnet=d.spec.subnet, gateway=d.spec.gateway
    )


def test_empty_host_gets_networks_then_containers():
    n, c = _net("n1", "10.1.0.0/24"), _ctr("c1")
    plan = planner.plan([n], [c], [], [])
    assert [(type(a).__name__, a.name) for a in plan.actions] == [
        ("EnsureNetwork", "n1"),
        ("EnsureContainer", "c1"),
    ]
    assert plan.actions[1].verb == "create"


def test_converged_host_plans_nothing():
    n, c = _net("n1", "10.1.0.0/24"), _ctr("c1")
    assert planner.plan([n], [c], [_net_state(n)], [_state(c)]).empty


def test_changed_hash_recreates_created_starts_exited_is_left():
    c = _ctr("c1")
    old = _state(c).model_copy(update={"spec_hash": "old"})
    assert planner.plan([], [c], [], [old]).actions[0].verb == "recreate"
    assert planner.plan([], [c], [], [_state(c, "created")]).actions[0].verb == "start"
    # An exited container keeps its exit code for the user: no restart loop.
    assert planner.plan([], [c], [], [_state(c, "exited")]).empty


def test_restart_request_restarts_in_place_once():
    c = planner.DesiredContainer(
        1, "db", agent.ContainerSpec(image="img"), [], restart_generation=2, restarted=1
    )
    plan = planner.plan([], [c], [], [_state(c)])
    assert [(type(a).__name__, a.generation) for a in plan.actions] == [  # type: ignore[union-attr]
        ("RestartContainer", 2)
    ]
    done = planner.DesiredContainer(1, "db", c.spec, [], restart_generation=2, restarted=2)
    assert planner.plan([], [done], [], [_state(done)]).empty


def test_links_change_pushes_without_recreate():
    target = agent.LinkTarget(alias="db", name="db", address="10.1.0.5")
    c = planner.DesiredContainer(
        1,
        "web",
        agent.ContainerSpec(image="img", links=[target]),
        [target.model_copy(update={"address": "10.1.0.4"})],
    )
    plan = planner.plan([], [c], [], [_state(c)])
    assert [type(a).__name__ for a in plan.actions] == ["SetLinks"]
    # Links are not in the hash: the container is not recreated for a new address.
    assert c.spec.computed_hash() == agent.ContainerSpec(image="img").computed_hash()


def test_strays_removed_containers_before_networks_and_creates():
    c = _ctr("keep")
    stray_c = agent.ContainerState(name="old", id="x", image="i", status="running", running=True)
    stray_n = agent.NetworkState(name="oldnet", id="y", driver="bridge")
    plan = planner.plan([], [c], [stray_n], [stray_c])
    names = [(type(a).__name__, a.name) for a in plan.actions]
    assert names == [
        ("RemoveContainer", "old"),
        ("EnsureContainer", "keep"),
        ("RemoveNetwork", "oldnet"),
    ]


def test_network_subnet_change_is_an_update_and_container_mode_goes_last():
    n = _net("n1", "10.1.0.0/24")
    moved = _net_state(n).model_copy(update={"subnet": "10.2.0.0/24"})
    assert planner.plan([n], [], [moved], []).actions[0].verb == "update"
    a = _ctr("a", network_mode="container:z")
    z = _ctr("z")
    assert [x.name for x in planner.plan([], [a, z], [], []).actions] == ["z", "a"]


def test_a_container_sharing_a_recreated_owners_stack_is_recreated():
    z, a = _ctr("z"), _ctr("a", network_mode="container:z")
    z_seen = _state(z).model_copy(update={"id": "z2"})
    joined = {"network_mode": "container:z1"}
    stale = _state(a).model_copy(update=joined)
    assert [(x.name, x.verb) for x in planner.plan([], [a, z], [], [z_seen, stale]).actions] == [
        ("a", "recreate")
    ]
    current = _state(a).model_copy(update={"network_mode": "container:z2"})
    assert planner.plan([], [a, z], [], [z_seen, current]).empty
    by_name = _state(a).model_copy(update={"network_mode": "container:z"})
    assert planner.plan([], [a, z], [], [z_seen, by_name]).empty
    # The owner not seen (yet): nothing to compare with, no action.
    assert planner.plan([], [a], [], [stale]).empty


names = st.sampled_from(["a", "b", "c", "d"])


@settings(max_examples=200, deadline=None)
@given(
    wanted=st.sets(names),
    present=st.dictionaries(names, st.sampled_from(["same", "stale", "created", "exited"])),
)
def test_applying_a_plan_converges_in_one_round(wanted, present):
    """Whatever the host holds, executing the plan leaves nothing to do, with no duplicates."""
    desired = [_ctr(n, env={"N": n}) for n in sorted(wanted)]
    by_name = {d.name: d for d in desired}
    seen = {}
    for name, how in present.items():
        d = by_name.get(name) or _ctr(name)
        s = _state(d, "created" if how == "created" else "exited" if how == "exited" else "running")
        if how == "stale":
            s = s.model_copy(update={"spec_hash": "stale"})
        seen[name] = s
    plan = planner.plan([], desired, [], list(seen.values()))
    touched = [a.name for a in plan.actions]
    assert len(touched) == len(set(touched))  # each container acted on once
    for action in plan.actions:  # what the agent would do
        if isinstance(action, planner.RemoveContainer):
            del seen[action.name]
        elif isinstance(action, planner.EnsureContainer):
            seen[action.name] = _state(by_name[action.name])
    assert set(seen) == wanted
    assert planner.plan([], desired, [], list(seen.values())).empty


def test_link_target_lists_every_exposed_port():
    db = ContainerSpec(
        image="i",
        exposed_ports=["3306"],
        ports=[
            {
                "container_port": 53,
                "protocol": "udp",
            }
        ],
    )
    t = link_target("MYDB", "db", db, "10.0.0.2")
    assert [(p.port, p.protocol) for p in t.ports] == [(53, "udp"), (3306, "tcp")]
    assert (t.alias, t.name, t.address) == ("MYDB", "db", "10.0.0.2")


def test_target_address_prefers_a_shared_network():
    web = ContainerSpec(image="i", networks=[{"network": "back"}])
    assert target_address(web, {"front": "10.0.0.2", "back": "10.1.0.2"}) == "10.1.0.2"
    assert target_address(web, {"front": "10.0.0.2"}) == "10.0.0.2"
    assert target_address(web, {}) is None
    plain = ContainerSpec(image="i")
    assert target_address(plain, {"bridge": "172.17.0.3", "x": "1.2.3.4"}) == "172.17.0.3"


def test_desired_state_labels_and_links_from_rows():
    net = Network(id=1, name="n1", host_id=1, subnet="10.1.0.0/24", gateway="10.1.0.1")
    db = Container(
        id=2,
        name="db",
        host_id=1,
        spec=ContainerSpec(
            image="i", exposed_ports=["3306/tcp"], networks=[NetworkAttachment(network="n1")]
        ),
        observed=ObservedRecord(addresses={"n1": "10.1.0.7"}),
    )
    web = Container(
        id=3,
        name="web",
        host_id=1,
        spec=ContainerSpec(image="i", networks=[NetworkAttachment(network="n1")]),
    )
    link = Link(id=1, from_id=3, to_id=2, alias="MYDB")
    nets, ctrs = desired_state([net], [db, web], [link], LinkWorld.of([db, web]), OWNER)
    assert (
        nets[0].spec.labels[labels.OWNER] == OWNER and nets[0].spec.labels[labels.NETWORK_ID] == "1"
    )
    w = next(c for c in ctrs if c.name == "web")
    assert w.spec.links[0].address == "10.1.0.7" and w.spec.links[0].ports[0].port == 3306
    assert w.applied_links is None
    assert network_spec(net, OWNER).subnet == "10.1.0.0/24"
    # Neither a restart request nor the link set changes the hash (no recreate).
    h0 = container_spec(db, OWNER, []).computed_hash()
    db.restart_generation = 1
    assert container_spec(db, OWNER, []).computed_hash() == h0
    assert (
        container_spec(db, OWNER, w.spec.links).computed_hash()
        == container_spec(db, OWNER, []).computed_hash()
    )
