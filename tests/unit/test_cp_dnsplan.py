"""The `*.weave.local` record planner (pure)."""

from hypothesis import given
from hypothesis import strategies as st

from controlplane.server.reconcile.dnsplan import OverlayEndpoint, records


def _table(eps: list[OverlayEndpoint]) -> dict[str, list[str]]:
    return {r.name: r.addresses for r in records(eps).records}


def test_names_hostnames_services_and_aliases_resolve_to_live_containers() -> None:
    eps = [
        OverlayEndpoint("web-1", "10.32.1.2", True, hostname="w1", service="web"),
        OverlayEndpoint("web-2", "10.32.2.2", True, service="web", aliases=("www",)),
        OverlayEndpoint("web-3", "10.32.3.2", False, service="web"),  # stopped: left out
        OverlayEndpoint("db", "10.32.1.3", True, aliases=("mydb.weave.local",)),
        OverlayEndpoint("pending", None, True),  # no address yet
    ]
    assert _table(eps) == {
        "db": ["10.32.1.3"],
        "mydb": ["10.32.1.3"],
        "w1": ["10.32.1.2"],
        "web": ["10.32.1.2", "10.32.2.2"],
        "web-1": ["10.32.1.2"],
        "web-2": ["10.32.2.2"],
        "www": ["10.32.2.2"],
    }


names = st.sampled_from(["a", "b", "c", "svc"])
endpoint = st.builds(
    OverlayEndpoint,
    container=st.sampled_from(["c1", "c2", "c3", "c4"]),
    address=st.one_of(st.none(), st.integers(2, 250).map(lambda i: f"10.32.0.{i}")),
    running=st.booleans(),
    service=st.one_of(st.none(), names),
    aliases=st.lists(names, max_size=2).map(tuple),
)


@given(st.lists(endpoint, max_size=8))
def test_every_live_name_lists_exactly_its_live_addresses(eps: list[OverlayEndpoint]) -> None:
    table = _table(eps)
    live = [e for e in eps if e.running and e.address]
    for name, addrs in table.items():
        expected = {
            e.address for e in live if name in {e.container, e.service, *e.aliases} - {None}
        }
        assert set(addrs) == expected and addrs == sorted(set(addrs))
    for e in live:
        assert e.address in table[e.container]
