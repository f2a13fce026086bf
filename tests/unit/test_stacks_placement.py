"""Placement: constraints honoured, replicas spread, not-ready hosts excluded, reasons given."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controlplane.stacks.placement import HostView, network_drivers, place
from controlplane.stacks.problems import ComposeInvalid
from controlplane.stacks.spec import (
    Attachment,
    Constraint,
    NetworkSpec,
    ServiceSpec,
    StackSpec,
)


def svc(name: str, **kw) -> ServiceSpec:
    return ServiceSpec(name=name, image="x", **kw)


def stack(*services: ServiceSpec, networks: dict[str, NetworkSpec] | None = None):
    return StackSpec(name="s", services={s.name: s for s in services}, networks=networks or {})


HOSTS = [
    HostView("h1", {"zone": "a"}),
    HostView("h2", {"zone": "b"}),
    HostView("h3", {"zone": "a"}, ready=False),
]


def test_constraint_on_hostname_and_labels():
    placed = place(
        stack(
            svc("db", constraints=(Constraint(field="hostname", equal=True, value="h1"),)),
            svc("api", constraints=(Constraint(field="labels.zone", equal=False, value="a"),)),
        ),
        HOSTS,
    )
    assert placed == {"db": ("h1",), "api": ("h2",)}


def test_replicas_spread_and_not_ready_excluded():
    placed = place(stack(svc("web", replicas=4)), HOSTS)
    assert Counter(placed["web"]) == {"h1": 2, "h2": 2}


def test_global_runs_once_per_eligible_host():
    assert place(stack(svc("agent", global_mode=True)), HOSTS) == {"agent": ("h1", "h2")}


def test_previous_placement_is_kept_when_still_eligible():
    placed = place(stack(svc("web", replicas=2)), HOSTS, previous={"web": ("h2", "h2")})
    assert placed["web"] == ("h2", "h2")
    moved = place(stack(svc("web", replicas=2)), HOSTS, previous={"web": ("h3", "h2")})
    assert moved["web"][1] == "h2" and moved["web"][0] in ("h1", "h2")


def test_namespace_guest_follows_its_owner():
    placed = place(
        stack(
            svc("db", constraints=(Constraint(field="hostname", equal=True, value="h2"),)),
            svc("sidecar", network_mode="service:db"),
        ),
        HOSTS,
    )
    assert placed["sidecar"] == ("h2",)


def test_unplaceable_says_why_per_host():
    with pytest.raises(ComposeInvalid) as info:
        place(
            stack(svc("db", constraints=(Constraint(field="hostname", equal=True, value="h3"),))),
            HOSTS,
        )
    assert info.value.unplaceable
    problem = info.value.problems[0]
    assert problem.path() == "services.db.deploy.placement"
    assert "h1: node.hostname == h3" in problem.msg and "not ready: h3" in problem.msg


def test_no_ready_host():
    with pytest.raises(ComposeInvalid, match="no host is ready"):
        place(stack(svc("web")), [HostView("h1", ready=False)])


def test_network_driver_follows_the_spread():
    nets = {"default": NetworkSpec(name="default"), "local": NetworkSpec(name="local")}
    s = stack(
        svc("a", networks=(Attachment(network="default"), Attachment(network="local"))),
        svc("b", networks=(Attachment(network="default"),)),
        svc("c", networks=(Attachment(network="local"),)),
        networks=nets,
    )
    placed = {"a": ("h1",), "b": ("h2",), "c": ("h1",)}
    assert network_drivers(s, placed) == {"default": "overlay", "local": "bridge"}
    bridged = s.model_copy(
        update={"networks": {**nets, "default": NetworkSpec(name="default", driver="bridge")}}
    )
    with pytest.raises(ComposeInvalid, match="cannot span hosts"):
        network_drivers(bridged, placed)


hosts_st = st.lists(
    st.builds(
        HostView,
        name=st.sampled_from([f"h{i}" for i in range(6)]),
        labels=st.fixed_dictionaries({"zone": st.sampled_from("ab")}),
        ready=st.booleans(),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda h: h.name,
)
services_st = st.lists(
    st.builds(
        svc,
        name=st.sampled_from(["a", "b", "c", "d"]),
        replicas=st.integers(0, 7),
        constraints=st.lists(
            st.builds(
                Constraint,
                field=st.just("labels.zone"),
                equal=st.booleans(),
                value=st.sampled_from("ab"),
            ),
            max_size=1,
        ).map(tuple),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda s: s.name,
)


@settings(max_examples=300, deadline=None)
@given(hosts=hosts_st, services=services_st)
def test_placement_properties(hosts, services):
    s = stack(*services)
    try:
        placed = place(s, hosts)
    except ComposeInvalid as exc:
        # Refused only when some service with replicas has no eligible ready host.
        assert exc.unplaceable
        for p in exc.problems:
            spec = s.services[str(p.loc[1])]
            assert spec.replicas > 0
            assert not [
                h
                for h in hosts
                if h.ready and all(c.matches(h.name, h.labels) for c in spec.constraints)
            ]
        return
    by_name = {h.name: h for h in hosts}
    for name, where in placed.items():
        spec = s.services[name]
        assert len(where) == spec.replicas
        for host in where:
            h = by_name[host]
            assert h.ready and all(c.matches(h.name, h.labels) for c in spec.constraints)
        counts = Counter(where)
        eligible = [
            h
            for h in hosts
            if h.ready and all(c.matches(h.name, h.labels) for c in spec.constraints)
        ]
        # Spread: no eligible host has two replicas more than another eligible host.
        per_host = [counts.get(h.name, 0) for h in eligible] or [0]
        assert max(per_host) - min(per_host) <= 1


def test_fixed_published_port_means_one_replica_per_host():
    from controlplane.stacks.spec import Port

    web = svc("web", replicas=2, ports=(Port(target=80, published=8080),))
    assert sorted(place(stack(web), HOSTS)["web"]) == ["h1", "h2"]
    with pytest.raises(ComposeInvalid, match="one per host"):
        place(stack(web.model_copy(update={"replicas": 3})), HOSTS)
