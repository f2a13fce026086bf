"""`weft attach|detach|expose|hide|ps|reset`: the other weave verbs, through the API."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from controlplane.cli.commands.common import (
    HostArg,
    HostOpt,
    JsonOpt,
    WaitOpt,
    api,
    find,
    handled,
    host_id,
    print_json,
    print_table,
    show,
)

if TYPE_CHECKING:
    from controlplane.cli.apiclient import ApiClient

ContainerArg = Annotated[str, typer.Argument(help="A container (name or id).")]
NetworkArg = Annotated[str, typer.Argument(help="An overlay network (name or id).")]
AliasOpt = Annotated[
    list[str] | None, typer.Option("--alias", help="A name it answers to there (repeatable).")
]


def _membership(
    client: "ApiClient", container: str, network: str, host: str | None
) -> tuple[str, str]:
    """The path of the container's membership of the overlay, and the overlay's name."""
    c = find(client, "container", container, host)
    n = find(client, "network", network)
    return f"/containers/{c['id']}/overlays/{n['id']}", str(n["name"])


@handled
def attach(
    ctx: typer.Context,
    container: ContainerArg,
    network: NetworkArg,
    alias: AliasOpt = None,
    host: HostOpt = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Put a running container on an overlay without restarting it (weave attach)."""
    with api(ctx) as client:
        path, overlay = _membership(client, container, network, host)
        row = client.put(path, {"aliases": alias or []}, {"wait": wait})
    show(row, as_json, f"{row['name']} on {overlay}: {row['status']}", wait)


@handled
def detach(
    ctx: typer.Context,
    container: ContainerArg,
    network: NetworkArg,
    host: HostOpt = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Take a container off an overlay without restarting it (weave detach)."""
    with api(ctx) as client:
        path, overlay = _membership(client, container, network, host)
        row = client.request("DELETE", path, {"wait": wait})
    show(row, as_json, f"{row['name']} off {overlay}: {row['status']}", wait)


@handled
def expose(
    ctx: typer.Context,
    host: HostArg,
    network: NetworkArg,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Give a host an address of its own on an overlay (weave expose); prints it."""
    with api(ctx) as client:
        n = find(client, "network", network)
        e = client.put(f"/hosts/{host_id(client, host)}/exposed/{n['id']}", None, {"wait": wait})
    show(e, as_json, f"{e['host']} on {e['network']}: {e['address']}/{e['prefix']}")


@handled
def hide(ctx: typer.Context, host: HostArg, network: NetworkArg, wait: WaitOpt = False) -> None:
    """Take a host's address on an overlay back (weave hide)."""
    with api(ctx) as client:
        n = find(client, "network", network)
        client.delete(f"/hosts/{host_id(client, host)}/exposed/{n['id']}", {"wait": wait})
    typer.echo(f"{host} hidden on {n['name']}")


def _ps_rows(report: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for h in report:
        if not h["reachable"]:
            rows.append((h["host"], "", "", "", "", "", f"unreachable: {h['reason']}"))
        rows += [
            (
                h["host"],
                e["overlay"],
                e["kind"],
                e["name"],
                e["address"],
                e["mac_address"],
                " ".join(e["aliases"]),
            )
            for e in h["endpoints"]
        ]
    return rows


@handled
def ps(ctx: typer.Context, host: HostOpt = None, as_json: JsonOpt = False) -> None:
    """Every endpoint on overlays, containers and exposed host addresses, with address
    and MAC, as each host's agent reports it now (weave ps)."""
    with api(ctx) as client:
        params = {"host_id": host_id(client, host)} if host else None
        report = client.get("/ps", params)
    if as_json:
        print_json(report)
        return
    columns = ["host", "overlay", "kind", "name", "address", "mac", "aliases"]
    print_table(columns, _ps_rows(report))


@handled
def reset(ctx: typer.Context, host: HostArg, as_json: JsonOpt = False) -> None:
    """Remove everything weft put on a host, and let it leave (weave reset): its
    containers, networks, exposed addresses and peerings are forgotten."""
    with api(ctx) as client:
        done = client.post(f"/hosts/{host_id(client, host)}/reset")
    removed, forgot = done["removed"], done["forgotten"]
    summary = (
        f"reset {done['host']}: removed {len(removed['containers'])} containers,"
        f" {len(removed['networks'])} networks, {len(removed['devices'])} devices,"
        f" {len(removed['tunnels'])} tunnels; forgot {len(forgot['peerings'])} peerings,"
        f" {len(forgot['exposed'])} exposed addresses"
    )
    show(done, as_json, summary)


def register(app: typer.Typer) -> None:
    """Add attach, detach, expose, hide, ps and reset to the top level of `weft`."""
    for command in (attach, detach, expose, hide, ps, reset):
        app.command(command.__name__)(command)
