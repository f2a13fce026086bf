"""Wire schemas, the spec hash and the pure link rendering."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from controlplane.contract import labels as L
from controlplane.contract import linkfiles as F
from controlplane.contract.schemas import (
    ContainerSpec,
    LinkTarget,
    NetworkAttachment,
    NetworkSpec,
    PortSpec,
    PublishedPort,
)

IMAGE = "weft/base-python:bookworm"


# Text as the schema allows it (no "=" in keys, no NUL, no lone surrogates: refused,
# see test_cp_bounds).
KEYS = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="=\x00"),
    min_size=1,
    max_size=8,
)
VALUES = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=8
)


@given(st.dictionaries(KEYS, VALUES, max_size=8))
def test_spec_hash_ignores_dict_order(env: dict[str, str]) -> None:
    reordered = dict(reversed(list(env.items())))
    a = ContainerSpec(image=IMAGE, env=env, labels=env)
    b = ContainerSpec(image=IMAGE, env=reordered, labels=reordered)
    assert a.computed_hash() == b.computed_hash()


def test_spec_hash_is_stable_and_sensitive() -> None:
    base = ContainerSpec(image=IMAGE, command=["a", "b"])
    assert base.computed_hash() == ContainerSpec(image=IMAGE, command=["a", "b"]).computed_hash()
    assert base.computed_hash() != ContainerSpec(image=IMAGE, command=["b", "a"]).computed_hash()
    assert (
        base.computed_hash()
        != ContainerSpec(image=IMAGE, command=["a", "b"], env={"X": "1"}).computed_hash()
    )
    # A pinned value: changing the hash recreates every container on upgrade.
    assert L.spec_hash({"b": [1, 2], "a": {"y": 1, "x": 2}}) == L.spec_hash(
        {"a": {"x": 2, "y": 1}, "b": [1, 2]}
    )
    assert len(base.computed_hash()) == 32


def test_spec_hash_excludes_links_running_and_defaults() -> None:
    plain = ContainerSpec(image=IMAGE)
    linked = ContainerSpec(
        image=IMAGE,
        running=False,
        links=[LinkTarget(alias="db", name="db1", address="10.0.0.2", ports=[PortSpec(port=1)])],
    )
    assert plain.computed_hash() == linked.computed_hash()
    # Explicit defaults hash like omitted ones, so new optional fields never recreate.
    assert (
        plain.computed_hash()
        == ContainerSpec(image=IMAGE, init=False, stop_timeout_s=10).computed_hash()
    )


def test_caller_hash_wins() -> None:
    assert ContainerSpec(image=IMAGE, spec_hash="abc").computed_hash() == "abc"


def test_managed_labels_cannot_be_overridden() -> None:
    labels = L.managed_labels("cp1", {L.MANAGED: "false", L.SPEC_HASH: "x", "weft.test": "1"})
    assert labels == {L.MANAGED: "true", L.OWNER: "cp1", "weft.test": "1"}
    assert L.managed_labels("cp1", {L.OWNER: "other"})[L.OWNER] == "other"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"network_mode": "host", "networks": [NetworkAttachment(name="n")]},
        {"network_mode": "none", "published_ports": [PublishedPort(container_port=80)]},
        {"network_mode": "container:other", "dns": ["10.0.0.1"]},
        {"network_mode": "bogus"},
        {"extra_hosts": ["nocolon"]},
        {"extra_hosts": ["name:not-an-ip"]},
    ],
)
def test_container_spec_rejects(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ContainerSpec(image=IMAGE, **kwargs)


def test_network_spec_checks_addresses() -> None:
    NetworkSpec(subnet="10.1.0.0/24", gateway="10.1.0.1", ip_range="10.1.0.128/25")
    for bad in (
        {"subnet": "10.1.0.0/24", "gateway": "10.2.0.1"},
        {"subnet": "10.1.0.0/24", "ip_range": "10.2.0.0/25"},
        {"subnet": "10.1.0.1/24"},
        {"gateway": "10.1.0.1"},
        {"subnet": "10.1.0.0/24", "unknown": 1},
    ):
        with pytest.raises(ValidationError):
            NetworkSpec.model_validate(bad)


def test_link_env_is_docker_compatible() -> None:
    links = [
        LinkTarget(
            alias="MYDB",
            name="db",
            address="172.17.0.2",
            ports=[PortSpec(port=3306), PortSpec(port=33060)],
        ),
        LinkTarget(alias="cache-1", name="c", address=None, ports=[PortSpec(port=6379)]),
    ]
    env = F.link_env("web", links)
    assert env == {
        "MYDB_NAME": "/web/MYDB",
        "MYDB_PORT": "tcp://172.17.0.2:3306",
        "MYDB_PORT_3306_TCP": "tcp://172.17.0.2:3306",
        "MYDB_PORT_3306_TCP_ADDR": "172.17.0.2",
        "MYDB_PORT_3306_TCP_PORT": "3306",
        "MYDB_PORT_3306_TCP_PROTO": "tcp",
        "MYDB_PORT_33060_TCP": "tcp://172.17.0.2:33060",
        "MYDB_PORT_33060_TCP_ADDR": "172.17.0.2",
        "MYDB_PORT_33060_TCP_PORT": "33060",
        "MYDB_PORT_33060_TCP_PROTO": "tcp",
    }
    assert F.env_prefix("cache-1.x") == "CACHE_1_X"


def test_merge_hosts_keeps_docker_entries_and_is_idempotent() -> None:
    docker_hosts = "127.0.0.1\tlocalhost\n172.17.0.3\tabc123\n"
    once = F.merge_hosts(docker_hosts, ["10.0.0.2\tMYDB"])
    assert once.startswith(docker_hosts)
    assert F.owned_hosts_lines(once) == ["10.0.0.2\tMYDB"]
    assert F.merge_hosts(once, ["10.0.0.2\tMYDB"]) == once
    moved = F.merge_hosts(once, ["10.0.0.9\tMYDB"])
    assert F.owned_hosts_lines(moved) == ["10.0.0.9\tMYDB"] and "10.0.0.2" not in moved
    # Docker appending its own entries after ours is kept too.
    appended = once + "172.18.0.4\tabc123\n"
    assert "172.18.0.4\tabc123" in F.merge_hosts(appended, [])
    assert F.merge_hosts(once, []) == docker_hosts


def test_env_file_quotes_values_and_links_json_round_trips() -> None:
    text = F.render_env_file({"A": "it's $x", "B": "plain"})
    assert "A='it'\"'\"'s $x'\n" in text and "B=plain\n" in text
    links = [LinkTarget(alias="db", name="db1", address="fd00::5", ports=[PortSpec(port=5)])]
    assert F.parse_links_json(F.render_links_json(links)) == links
    assert F.link_env("w", links)["DB_PORT"] == "tcp://[fd00::5]:5"


def test_engines_sharing_a_key_but_not_a_data_root_are_different_engines() -> None:
    from controlplane.agent.driver.info import engine_identity

    key = "ABCD:EFGH:IJKL"
    one = engine_identity({"ID": key, "DockerRootDir": "/var/lib/docker"})
    assert one == engine_identity({"ID": key, "DockerRootDir": "/var/lib/docker"})
    assert one != engine_identity({"ID": key, "DockerRootDir": "/run/h2/docker"})
    assert one != engine_identity({"ID": "WXYZ", "DockerRootDir": "/var/lib/docker"})
    assert engine_identity({}) == ""
