"""Container specs end to end: the user's spec, its PATCH form, the agent's spec, the table."""

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError

from controlplane.contract import labels
from controlplane.contract import schemas as agent
from controlplane.contract.apitypes import (
    ContainerCreate,
    ContainerSpec,
    ContainerUpdate,
    HealthCheck,
    NetworkAttachment,
    PortBinding,
    ResourceStatus,
    RestartPolicy,
    VolumeMount,
)
from controlplane.server.db import make_engine, make_sessionmaker, upgrade
from controlplane.server.models import Container, Host, ObservedRecord
from controlplane.server.reconcile.desired import container_spec

FULL = ContainerSpec(
    image="img:1",
    command=["serve", "--port", "80"],
    entrypoint=["/bin/sh", "-c"],
    env={"MODE": "demo"},
    exposed_ports=["3306", "53/udp"],
    ports=[PortBinding(container_port=80, host_ip="127.0.0.1", host_port=8080)],
    networks=[NetworkAttachment(network="n1", aliases=["www"], ipv4_address="10.1.0.9")],
    hostname="web1",
    restart_policy=RestartPolicy(name="on-failure", maximum_retry_count=3),
    healthcheck=HealthCheck(test=["CMD-SHELL", "true"], interval_s=2, retries=4),
    labels={"tier": "front"},
    dns=["10.1.0.1"],
    dns_search=["weave.local"],
    stop_timeout_s=3,
    volumes=[VolumeMount(volume="data", target="/var/lib/data", read_only=True)],
)


def test_every_field_of_the_users_spec_reaches_the_agents_spec() -> None:
    row = Container(id=7, name="web", host_id=1, spec=FULL)
    link = agent.LinkTarget(alias="DB", name="db", address="10.1.0.2")
    got = container_spec(row, "cp-1", [link])
    assert got == agent.ContainerSpec(
        image="img:1",
        command=["serve", "--port", "80"],
        entrypoint=["/bin/sh", "-c"],
        env={"MODE": "demo"},
        labels={"tier": "front", labels.OWNER: "cp-1", labels.CONTAINER_ID: "7"},
        exposed_ports=[agent.PortSpec(port=3306), agent.PortSpec(port=53, protocol="udp")],
        published_ports=[
            agent.PublishedPort(container_port=80, host_ip="127.0.0.1", host_port=8080)
        ],
        networks=[agent.NetworkAttachment(name="n1", aliases=["www"], ipv4_address="10.1.0.9")],
        network_mode="bridge",
        restart_policy=agent.RestartPolicy(name="on-failure", maximum_retry_count=3),
        healthcheck=agent.HealthCheck(
            test=["CMD-SHELL", "true"], interval_s=2, timeout_s=3, retries=4
        ),
        dns=["10.1.0.1"],
        dns_search=["weave.local"],
        hostname="web1",
        stop_timeout_s=3,
        mounts=[agent.Mount(source="data", target="/var/lib/data", read_only=True)],
        links=[link],
    )
    # Every field of the user's spec changes what the agent gets (none is dropped).
    defaults = ContainerSpec(image="img:1")
    given = {**dict(FULL), "network_mode": "host"}
    for field in ContainerSpec.model_fields:
        if field == "image":
            continue
        one = defaults.model_copy(update={field: given[field]})
        plain = container_spec(Container(id=7, name="web", host_id=1, spec=defaults), "cp-1", [])
        changed = container_spec(Container(id=7, name="web", host_id=1, spec=one), "cp-1", [])
        assert changed.computed_hash() != plain.computed_hash(), field
    # A wildcard host address is the engine's "" (any address).
    wild = FULL.model_copy(update={"ports": [PortBinding(container_port=80)]})
    wild_spec = container_spec(Container(id=7, name="web", host_id=1, spec=wild), "cp-1", [])
    assert wild_spec.published_ports[0].host_ip == ""


def test_update_takes_every_spec_field_optionally_with_its_constraints() -> None:
    assert set(ContainerUpdate.model_fields) == set(ContainerSpec.model_fields)
    assert all(not f.is_required() for f in ContainerUpdate.model_fields.values())
    changes = ContainerUpdate.model_validate({"env": {"MODE": "live"}, "stop_timeout_s": 1})
    updated = FULL.with_changes(changes)
    assert updated.env == {"MODE": "live"} and updated.stop_timeout_s == 1
    assert updated.model_copy(update={"env": FULL.env, "stop_timeout_s": 3}) == FULL
    for bad in ({"image": ""}, {"stop_timeout_s": -1}, {"nope": 1}, {"ports": [{"x": 1}]}):
        with pytest.raises(ValidationError):
            ContainerUpdate.model_validate(bad)
    # Checks across fields run on the merged spec.
    with pytest.raises(ValidationError, match="networks can only be given"):
        FULL.with_changes(ContainerUpdate.model_validate({"network_mode": "host"}))


def test_create_splits_into_the_spec() -> None:
    body = {"name": "web", "host_id": 1, "links": [{"to": 2, "alias": "DB"}]}
    create = ContainerCreate.model_validate({**FULL.model_dump(), **body})
    assert create.spec() == FULL


def test_spec_observed_and_status_columns_are_typed_both_ways(tmp_path: Path) -> None:
    async def round_trip() -> Container:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/t.db")
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            session.add(Host(id=1, name="h1", agent_url="http://h1", agent_token="t"))
            await session.flush()
            seen = ObservedRecord(state="running", addresses={"n1": "10.1.0.9"}, restarted=2)
            session.add(Container(id=7, name="web", host_id=1, spec=FULL, observed=seen))
            await session.commit()
        async with sessions() as session:
            row = await session.get(Container, 7)
            assert row is not None
        await engine.dispose()
        return row

    row = asyncio.run(round_trip())
    assert row.spec == FULL
    assert row.observed.addresses == {"n1": "10.1.0.9"} and row.observed.restarted == 2
    assert row.status is ResourceStatus.pending


def test_observed_record_keeps_what_was_applied_until_told_otherwise() -> None:
    link = agent.LinkTarget(alias="DB", name="db", address="10.1.0.2")
    seen = ObservedRecord(state="running", links=[link], restarted=1)
    assert seen.after(None, None) == seen
    assert seen.after([], None).links == [] and seen.after([], None).restarted == 1
    assert seen.after(None, 2).restarted == 2 and seen.after(None, 2).links == [link]
    # The API shows what was seen, not the reconciler's bookkeeping.
    assert "links" not in seen.shown().model_dump() and seen.shown().state == "running"
