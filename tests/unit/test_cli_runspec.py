"""`docker run`-style options → POST /containers bodies (pure parsers)."""

from typing import Any

import pytest
import typer

from controlplane.cli.commands.runspec import (
    SpecOptions,
    parse_attachment,
    parse_duration,
    parse_link,
    parse_publish,
    parse_restart,
    run_body,
)
from controlplane.contract.apitypes import ContainerCreate, InlineLink


@pytest.mark.parametrize(
    ("text", "binding"),
    [
        ("80", {"container_port": 80, "protocol": "tcp"}),
        ("8080:80", {"container_port": 80, "protocol": "tcp", "host_port": 8080}),
        ("53:53/udp", {"container_port": 53, "protocol": "udp", "host_port": 53}),
        (
            "127.0.0.1:8080:80",
            {"container_port": 80, "protocol": "tcp", "host_ip": "127.0.0.1", "host_port": 8080},
        ),
        ("127.0.0.1::80", {"container_port": 80, "protocol": "tcp", "host_ip": "127.0.0.1"}),
        (
            "[::1]:8080:80",
            {"container_port": 80, "protocol": "tcp", "host_ip": "::1", "host_port": 8080},
        ),
    ],
)
def test_publish_forms(text: str, binding: dict[str, object]) -> None:
    assert parse_publish(text).model_dump(exclude_unset=True) == binding


@pytest.mark.parametrize("text", ["", "x", "80/sctp", "0", "70000", "a:b:c:d", "x:80", "[::1"])
def test_bad_publish_is_a_usage_error(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_publish(text)


def test_restart_policies() -> None:
    assert parse_restart("always").model_dump(exclude_unset=True) == {"name": "always"}
    assert parse_restart("on-failure:5").model_dump(exclude_unset=True) == {
        "name": "on-failure",
        "maximum_retry_count": 5,
    }
    for bad in ("sometimes", "always:3", "on-failure:x"):
        with pytest.raises(typer.BadParameter):
            parse_restart(bad)


def test_durations() -> None:
    assert parse_duration("2.5") == 2.5
    assert parse_duration("500ms") == 0.5
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("1h") == 3600.0
    for bad in ("", "5x", "s", "1m 2s"):
        with pytest.raises(typer.BadParameter):
            parse_duration(bad)


def test_attachment() -> None:
    assert parse_attachment("net").model_dump() == {
        "network": "net",
        "aliases": [],
        "ipv4_address": None,
    }
    assert parse_attachment("net:a,b", "10.0.0.9").model_dump() == {
        "network": "net",
        "aliases": ["a", "b"],
        "ipv4_address": "10.0.0.9",
    }
    with pytest.raises(typer.BadParameter):
        parse_attachment(":a")


def body(**given: Any) -> dict[str, Any]:
    """The JSON body for container c on host 1 from image img, with the options given."""
    return run_body(SpecOptions(**given), "c", 1, "img").model_dump(exclude_unset=True)


def test_net_modes_and_network_names() -> None:
    assert body(net="host")["network_mode"] == "host"
    assert body(net="container:db")["network_mode"] == "container:db"
    # `--net NAME` attaches to that network, as Docker does; --ip goes on the first one.
    sent = body(net="front", network=["back"], ip="10.0.0.9")
    assert "network_mode" not in sent
    assert sent["networks"] == [
        {"network": "front", "aliases": [], "ipv4_address": "10.0.0.9"},
        {"network": "back", "aliases": []},
    ]
    with pytest.raises(typer.BadParameter):
        body(ip="10.0.0.9")
    with pytest.raises(typer.BadParameter):
        body(health_retries=3)


def test_link_forms() -> None:
    assert parse_link("db:MYDB") == ("db", "MYDB")
    assert parse_link("db") == ("db", "db")
    for bad in ("", ":X", "db:", "a:b:c"):
        with pytest.raises(typer.BadParameter):
            parse_link(bad)


def test_every_option_gives_a_body_the_api_schema_accepts() -> None:
    options = SpecOptions(
        network=["n:a"],
        publish=["127.0.0.1:8080:80"],
        env=["A=1"],
        expose=["3306"],
        restart="always",
        health_cmd="true",
        health_interval="5s",
        health_timeout="2s",
        health_retries=2,
        health_start_period="1s",
        dns=["10.0.0.1"],
        dns_search=["x.local"],
        label=["weft.test=1"],
        hostname="web1",
        entrypoint="/bin/sh",
        stop_timeout=3,
    )
    links = [InlineLink(to=2, alias="MYDB")]
    sent = run_body(options, "web", 1, "img", ["sleep", "1"], links)
    spec = ContainerCreate.model_validate(sent.model_dump(mode="json", exclude_unset=True))
    assert spec.all_exposed() == [(80, "tcp"), (3306, "tcp")]
    assert spec.healthcheck is not None and spec.healthcheck.start_period_s == 1.0
    assert spec.entrypoint == ["/bin/sh"] and spec.stop_timeout_s == 3
    assert [(k.to, k.alias) for k in spec.links] == [(2, "MYDB")]
