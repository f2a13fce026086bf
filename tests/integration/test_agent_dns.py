"""The agent's DNS responder over real UDP and TCP sockets on 127.0.0.1.

`*.weave.local` is answered from the record set (all addresses, shuffled, short
TTL; NXDOMAIN for unknown names), other names go to the upstream resolver (here
another responder, for `example.test`), SERVFAIL when none answers; an update is
answered from the next query on; the set survives a restart through its file;
and the agent's `/v1/dns` routes refuse bad records naming the field.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from dnslib import QTYPE, RCODE
from fastapi.testclient import TestClient

from controlplane.agent.app import create_app
from controlplane.agent.dns.server import DnsServer, query
from controlplane.agent.settings import AgentSettings
from controlplane.contract.dns import DnsRecordSet
from tests.integration.cp_procs import free_port

pytestmark = pytest.mark.integration
LOCAL = "127.0.0.1"


def _set(**records: list[str]) -> DnsRecordSet:
    return DnsRecordSet.model_validate(
        {"records": [{"name": k, "addresses": v} for k, v in records.items()]}
    )


@pytest.fixture
def upstream() -> Iterator[DnsServer]:
    server = DnsServer(f"{LOCAL}:0", [])
    server.set_records(
        DnsRecordSet.model_validate(
            {"domain": "example.test", "records": [{"name": "www", "addresses": ["192.0.2.7"]}]}
        )
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dns(upstream: DnsServer, tmp_path: Path) -> Iterator[DnsServer]:
    server = DnsServer(f"{LOCAL}:0", [f"{LOCAL}:{upstream.port}"], tmp_path / "dns.json")
    server.start()
    yield server
    server.stop()


def _addresses(server: DnsServer, name: str, tcp: bool = False) -> list[str]:
    reply = query(LOCAL, server.port, name, tcp=tcp)
    assert reply.header.rcode == RCODE.NOERROR, reply
    return [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]


def test_weave_local_names_are_answered_from_the_records(dns: DnsServer) -> None:
    dns.set_records(_set(mydb=["10.32.1.5"], web=["10.32.1.6", "10.32.2.6", "10.32.3.6"]))
    assert _addresses(dns, "mydb.weave.local") == ["10.32.1.5"]
    assert _addresses(dns, "MyDB.Weave.Local.", tcp=True) == ["10.32.1.5"]
    reply = query(LOCAL, dns.port, "web.weave.local")
    assert reply.header.aa == 1 and {rr.ttl for rr in reply.rr} == {1}
    orders = {tuple(_addresses(dns, "web.weave.local")) for _ in range(40)}
    assert {frozenset(o) for o in orders} == {frozenset(["10.32.1.6", "10.32.2.6", "10.32.3.6"])}
    assert len(orders) > 1  # random order: replicas share the load
    assert query(LOCAL, dns.port, "nobody.weave.local").header.rcode == RCODE.NXDOMAIN
    aaaa = query(LOCAL, dns.port, "mydb.weave.local", "AAAA")
    assert aaaa.header.rcode == RCODE.NOERROR and not aaaa.rr


def test_an_update_is_answered_at_once_and_survives_a_restart(
    dns: DnsServer, upstream: DnsServer
) -> None:
    dns.set_records(_set(mydb=["10.32.1.5"]))
    assert _addresses(dns, "mydb.weave.local") == ["10.32.1.5"]
    started = time.monotonic()
    dns.set_records(_set(mydb=["10.32.2.9"]))  # moved to another host
    assert _addresses(dns, "mydb.weave.local") == ["10.32.2.9"]
    assert time.monotonic() - started < 1
    assert dns.state_file is not None
    again = DnsServer(f"{LOCAL}:0", [], dns.state_file)
    again.start()
    try:
        assert _addresses(again, "mydb.weave.local") == ["10.32.2.9"]
    finally:
        again.stop()


def test_other_names_go_upstream_and_fail_as_servfail_without_one(
    dns: DnsServer, upstream: DnsServer
) -> None:
    assert _addresses(dns, "www.example.test") == ["192.0.2.7"]
    assert _addresses(dns, "www.example.test", tcp=True) == ["192.0.2.7"]
    nx = query(LOCAL, dns.port, "nope.example.test")
    assert nx.header.rcode == RCODE.NXDOMAIN  # the upstream's answer, passed on
    upstream.stop()
    dead = DnsServer(f"{LOCAL}:0", [f"{LOCAL}:{free_port()}"])
    dead.start()
    try:
        assert query(LOCAL, dead.port, "www.example.test").header.rcode == RCODE.SERVFAIL
    finally:
        dead.stop()


def test_the_agent_routes_replace_and_show_the_records(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    token = tmp_path / "token"
    token.write_text("dns-token")
    port = free_port()
    settings = AgentSettings(
        token_file=token,
        dns_listen=f"{LOCAL}:{port}",
        dns_upstreams=[],
        state_dir=tmp_path,
        watch_events=False,
    )
    app = create_app(settings, engine=docker_client)

    with TestClient(app, headers={"Authorization": "Bearer dns-token"}) as client:
        body = {"records": [{"name": "mydb", "addresses": ["10.32.1.5"]}]}
        r = client.put("/v1/dns", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["listening"] == [f"{LOCAL}:{port}"]
        assert str(query(LOCAL, port, "mydb.weave.local").rr[0].rdata) == "10.32.1.5"
        assert client.put("/v1/dns", json=body).json() == r.json()  # idempotent
        bad = {"records": [{"name": "my db", "addresses": ["10.32.1.999"]}]}
        r = client.put("/v1/dns", json=bad)
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"][:3] == ["body", "records", 0]
        assert client.get("/v1/dns").json()["records"] == body["records"]  # unchanged
    assert (tmp_path / "dns.json").exists()
