"""`weft connect A B`, `weft forget A B`, `weft status peers|dns|ipam`: Weave's verbs."""

from enum import StrEnum
from typing import Annotated, Any

import typer

from controlplane.cli.commands.common import (
    JsonOpt,
    api,
    fail,
    handled,
    host_id,
    print_json,
    print_table,
    show,
)


class StatusOf(StrEnum):
    """What `weft status` reports on."""

    peers = "peers"
    dns = "dns"
    ipam = "ipam"


HostArg = Annotated[str, typer.Argument(help="A host (name or id).")]


def _check(p: dict[str, Any]) -> str:
    check = p.get("last_check") or {}
    if not check:
        return "unchecked"
    return "reachable" if check.get("reachable") else f"unreachable: {check.get('reason')}"


@handled
def connect(ctx: typer.Context, a: HostArg, b: HostArg, as_json: JsonOpt = False) -> None:
    """Peer hosts A and B (weave connect): their meshes become one."""
    with api(ctx) as client:
        p = client.post("/peerings", {"a": host_id(client, a), "b": host_id(client, b)})
    show(p, as_json, f"peering {p['id']}: {p['a_name']} - {p['b_name']} ({_check(p)})")


@handled
def forget(ctx: typer.Context, a: HostArg, b: HostArg) -> None:
    """Remove the peering of A and B (weave forget); others may still join them."""
    with api(ctx) as client:
        pair = {host_id(client, a), host_id(client, b)}
        found = [p for p in client.get("/peerings") if {p["a"], p["b"]} == pair]
        if not found:
            raise fail(f"{a} and {b} are not peered")
        client.delete(f"/peerings/{found[0]['id']}")
    typer.echo(f"forgot peering {found[0]['id']}: {a} - {b}")


@handled
def status(
    ctx: typer.Context,
    what: Annotated[StatusOf, typer.Argument(help="What to report.")] = StatusOf.peers,
    host: Annotated[str | None, typer.Option("--host", help="Only this host.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Each host's peers as its agent measures them now (weave status peers), the
    `*.weave.local` records each host serves (dns), or the overlays' blocks and
    addresses per host (ipam)."""
    if what is not StatusOf.peers:
        return _overlay_status(ctx, what, host, as_json)
    with api(ctx) as client:
        ids = [host_id(client, host)] if host else [int(h["id"]) for h in client.get("/hosts")]
        reports = [client.get(f"/hosts/{i}/peers") for i in ids]
    if as_json:
        print_json(reports)
        return
    rows = [
        (
            r["name"],
            p["name"],
            p["address"],
            "direct" if p["direct"] else "via mesh",
            "yes" if p["reachable"] else "no",
            p["datapath"] + (" (encrypted)" if p["encrypted"] else ""),
            p["mtu"],
            p["rtt_ms"],
            p["reason"],
        )
        for r in reports
        for p in r["peers"]
    ]
    columns = ["host", "peer", "address", "joined", "reachable", "datapath", "mtu", "rtt ms"]
    print_table([*columns, "reason"], rows)


def _overlay_status(ctx: typer.Context, what: StatusOf, host: str | None, as_json: bool) -> None:
    with api(ctx) as client:
        report = client.get(f"/{what.value}")
    rows: list[tuple[object, ...]]
    if what is StatusOf.dns:
        if host is not None:
            report = [r for r in report if host in (r["name"], str(r["host_id"]))]
        rows = [
            (r["name"], f"{rec['name']}.{r['domain']}", " ".join(rec["addresses"]), r["ttl"])
            for r in report
            for rec in r["records"]
        ]
        columns = ["host", "name", "addresses", "ttl"]
    else:
        rows = [
            (n["name"], n["subnet"], b["host"], "block", b["block"])
            for n in report
            for b in n["blocks"]
        ] + [
            (n["name"], n["subnet"], a["host"], a["container"] or "(exposed)", a["address"])
            for n in report
            for a in n["addresses"]
        ]
        if host is not None:
            rows = [r for r in rows if r[2] == host]
        columns = ["network", "subnet", "host", "holder", "range / address"]
    if as_json:
        print_json(report)
        return
    print_table(columns, rows)


def register(app: typer.Typer) -> None:
    """Add connect, forget and status to the top level of `weft`."""
    app.command("connect")(connect)
    app.command("forget")(forget)
    app.command("status")(status)
