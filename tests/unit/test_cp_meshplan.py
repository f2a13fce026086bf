"""Meshes and overlay peer lists (pure)."""

from hypothesis import given
from hypothesis import strategies as st

from controlplane.server.reconcile import meshplan

names = st.sampled_from(["h1", "h2", "h3", "h4", "h5", "h6"])
edges = st.lists(st.tuples(names, names).filter(lambda e: e[0] != e[1]), max_size=8)


def test_a_chain_is_one_mesh_and_forgetting_splits_it() -> None:
    hosts = ["h1", "h2", "h3"]
    chain = [("h1", "h2"), ("h2", "h3")]
    assert meshplan.meshes(hosts, chain) == [frozenset(hosts)]
    assert meshplan.peer_lists(hosts, chain) == {
        "h1": ["h2", "h3"],
        "h2": ["h1", "h3"],
        "h3": ["h1", "h2"],
    }
    # forget h3: it floods to nobody, and nobody to it
    assert meshplan.peer_lists(hosts, [("h1", "h2")]) == {"h1": ["h2"], "h2": ["h1"], "h3": []}
    # a network on h1 and h3 only, meshed through h2
    assert meshplan.peer_lists(["h1", "h3"], chain) == {"h1": ["h3"], "h3": ["h1"]}


def test_mtu_is_the_smallest_underlay_minus_vxlan_and_wireguard() -> None:
    assert meshplan.overlay_mtu({"h1": 1500, "h2": 9000}) == 1450
    assert meshplan.overlay_mtu({"h1": 1500}, encrypted=True) == 1370


@given(st.sets(names, min_size=1), edges)
def test_peer_lists_are_symmetric_transitive_and_never_self(
    network: set[str], peerings: list[tuple[str, str]]
) -> None:
    lists = meshplan.peer_lists(network, peerings)
    assert set(lists) == network
    everyone = network | {h for e in peerings for h in e}
    for h, peers in lists.items():
        assert h not in peers and peers == sorted(peers) and set(peers) <= network
        for p in peers:
            assert h in lists[p]  # symmetric
            assert meshplan.mesh_of(h, everyone, peerings) == meshplan.mesh_of(
                p, everyone, peerings
            )
        for other in network - {h} - set(peers):  # left out only when in another mesh
            assert other not in meshplan.mesh_of(h, everyone, peerings)


@given(st.sets(names, min_size=1), edges, names, names)
def test_connecting_to_any_member_reaches_them_all(
    hosts: set[str], peerings: list[tuple[str, str]], new: str, member: str
) -> None:
    if new == member:
        return
    joined = [*peerings, (new, member)]
    everyone = hosts | {new, member} | {h for e in peerings for h in e}
    mesh = meshplan.mesh_of(member, everyone, peerings)
    assert mesh | {new} <= meshplan.mesh_of(new, everyone, joined)
    groups = meshplan.meshes(everyone, joined)
    assert sorted(h for g in groups for h in g) == sorted(everyone)  # a partition


def test_an_overlay_spans_its_anchors_mesh_or_the_listed_hosts_of_it() -> None:
    from controlplane.server.reconcile.meshplan import overlay_span

    hosts, pairs = [1, 2, 3, 4], [(1, 2), (2, 3)]
    assert overlay_span(1, [], hosts, pairs) == {1, 2, 3}
    assert overlay_span(3, [1, 3], hosts, pairs) == {1, 3}
    assert overlay_span(4, [], hosts, pairs) == {4}
    assert overlay_span(1, [], hosts, [(1, 2)]) == {1, 2}  # 3 forgotten: off the overlay
