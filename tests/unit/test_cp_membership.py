"""Overlay membership in the pure planner: a container joins or leaves an overlay in place.

Joining or leaving an overlay (`weave attach` / `detach`) must not restart the
container; every other difference still recreates it. No I/O, no fixtures.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from controlplane.contract import schemas as agent
from controlplane.contract.overlay import OverlaySpec
from controlplane.contract.weave import AttachSpec
from controlplane.server.reconcile import planner
from controlplane.server.reconcile.desired import overlay_free_hash

OVERLAYS = ("ovl-a", "ovl-b")
ADDRESS = {"ovl-a": "10.32.0.5", "ovl-b": "10.33.0.5"}


def _overlay(name: str, i: int) -> planner.DesiredOverlay:
    spec = OverlaySpec(
        vni=100 + i,
        subnet=f"10.{32 + i}.0.0/16",
        ip_range=f"10.{32 + i}.0.0/24",
        gateway=f"10.{32 + i}.0.1",
        local="192.0.2.1",
    )
    return planner.DesiredOverlay(i + 1, name, spec)


DESIRED_OVERLAYS = [_overlay(n, i) for i, n in enumerate(OVERLAYS)]


def _ctr(networks: dict[str, list[str]], **spec: object) -> planner.DesiredContainer:
    """A container on `networks` (name -> aliases), overlays at their IPAM address."""
    atts = [
        agent.NetworkAttachment(name=n, aliases=a, ipv4_address=ADDRESS.get(n))
        for n, a in networks.items()
    ]
    raw = planner.DesiredContainer(
        7,
        "web",
        agent.ContainerSpec(image="img", networks=atts, **spec),
        [],
    )
    return overlay_free_hash(raw, OVERLAYS)


def _seen(
    d: planner.DesiredContainer, networks: dict[str, list[str]], running: bool = True
) -> agent.ContainerState:
    """The container as the agent reports it, on `networks` (short-id alias added)."""
    cid = "0123456789abcdef"
    eps = {
        n: agent.NetworkEndpoint(
            ip_address=ADDRESS.get(n, "172.20.0.2") if running else None,
            aliases=[*a, cid[:12]],
        )
        for n, a in networks.items()
    }
    return agent.ContainerState(
        name=d.name,
        id=cid,
        image="img",
        status="running" if running else "exited",
        running=running,
        spec_hash=d.spec.computed_hash(),
        networks=eps,
    )


def _plan(d: planner.DesiredContainer, seen: agent.ContainerState) -> list[planner.Action]:
    return planner.plan([], [d], [], [seen], DESIRED_OVERLAYS).for_resource("container", 7)


def test_hash_leaves_overlays_out_and_keeps_a_plain_containers_hash():
    plain = planner.DesiredContainer(7, "web", agent.ContainerSpec(image="img"), [])
    assert overlay_free_hash(plain, OVERLAYS).spec.computed_hash() == plain.spec.computed_hash()
    on_two = _ctr({"ovl-a": ["www"], "ovl-b": []})
    assert on_two.spec.computed_hash() == _ctr({}).spec.computed_hash()
    # A bridge network is not an overlay: joining one is still a new container.
    assert _ctr({"br": []}).spec.computed_hash() != _ctr({}).spec.computed_hash()


def test_joining_an_overlay_attaches_at_its_ipam_address_with_aliases():
    before = _ctr({"br": []})
    after = _ctr({"br": [], "ovl-a": ["www"]})
    actions = _plan(after, _seen(before, {"br": []}))
    assert actions == [
        planner.AttachContainer(
            7, "web", "ovl-a", AttachSpec(ipv4_address="10.32.0.5", aliases=["www"])
        )
    ]


def test_leaving_an_overlay_detaches_and_a_bridge_is_never_detached():
    before = _ctr({"br": [], "ovl-a": [], "ovl-b": []})
    after = _ctr({"br": []})
    actions = _plan(after, _seen(before, {"br": [], "ovl-a": [], "ovl-b": []}))
    assert [(type(a).__name__, getattr(a, "network", None)) for a in actions] == [
        ("DetachContainer", "ovl-a"),
        ("DetachContainer", "ovl-b"),
    ]


def test_wrong_address_or_aliases_reattach_and_a_match_plans_nothing():
    d = _ctr({"ovl-a": ["www"]})
    assert _plan(d, _seen(d, {"ovl-a": ["www"]})) == []
    assert [a.verb for a in _plan(d, _seen(d, {"ovl-a": ["old"]}))] == ["attach"]
    moved = _seen(d, {"ovl-a": ["www"]})
    moved.networks["ovl-a"].ip_address = "10.32.0.99"
    assert [a.verb for a in _plan(d, moved)] == ["attach"]


def test_stopped_container_compares_membership_not_its_missing_address():
    d = _ctr({"ovl-a": []})
    assert _plan(d, _seen(d, {"ovl-a": []}, running=False)) == []
    assert [a.verb for a in _plan(d, _seen(d, {}, running=False))] == ["attach"]


def test_no_address_yet_waits_and_other_differences_still_recreate():
    waiting = _ctr({"ovl-a": []})
    waiting.spec.networks[0].ipv4_address = None
    assert _plan(waiting, _seen(_ctr({}), {})) == []
    changed = _ctr({"ovl-a": []}, env={"MODE": "live"})
    actions = _plan(changed, _seen(_ctr({}), {}))
    assert [(a.verb) for a in actions] == ["recreate"]


def test_shared_namespace_modes_are_never_attached():
    host_mode = agent.ContainerSpec(image="img", network_mode="host")
    d = overlay_free_hash(planner.DesiredContainer(7, "web", host_mode, []), OVERLAYS)
    seen = _seen(d, {})
    assert planner.membership(d, seen, OVERLAYS) == []


@settings(max_examples=200, deadline=None)
@given(
    before=st.sets(st.sampled_from(("br", *OVERLAYS))),
    after=st.sets(st.sampled_from(OVERLAYS)),
)
def test_any_overlay_change_converges_in_place_in_one_round(before, after):
    """Applying the actions to the seen container leaves nothing to do, and never recreates."""
    want = _ctr({n: [] for n in sorted(after | {"br"})})
    seen = _seen(_ctr({n: [] for n in sorted(before | {"br"})}), {n: [] for n in before | {"br"}})
    actions = _plan(want, seen)
    assert all(isinstance(a, planner.AttachContainer | planner.DetachContainer) for a in actions)
    for a in actions:
        if isinstance(a, planner.AttachContainer):
            seen.networks[a.network] = agent.NetworkEndpoint(
                ip_address=a.attach.ipv4_address, aliases=a.attach.aliases
            )
        elif isinstance(a, planner.DetachContainer):
            del seen.networks[a.network]
    assert _plan(want, seen) == []


def test_a_new_container_on_an_overlay_waits_for_its_address():
    """Read between the IPAM and the plan: created next round, never at Docker's pick."""
    d = _ctr({"ovl-a": []})
    d.spec.networks[0].ipv4_address = None
    assert planner.plan([], [d], [], [], DESIRED_OVERLAYS).for_resource("container", 7) == []
    ready = planner.plan([], [_ctr({"ovl-a": []})], [], [], DESIRED_OVERLAYS)
    assert [a.verb for a in ready.for_resource("container", 7)] == ["create"]
