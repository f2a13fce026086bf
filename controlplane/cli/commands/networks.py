"""`weft networks`: bridge networks, one host each."""

from typing import Annotated

import typer

from controlplane.cli.commands.common import (
    JsonOpt,
    api,
    find,
    handled,
    host_id,
    key_values,
    print_json,
    print_table,
    show,
    status_of,
)

app = typer.Typer(help="Bridge networks (one host each).", no_args_is_help=True)

HostOpt = Annotated[str | None, typer.Option("--host", help="Host name or id.")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Return once the host has converged.")]


@app.command("create")
@handled
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Network name (unique on its host).")],
    host: Annotated[
        str | None,
        typer.Option("--host", help="Host name or id (an overlay: a host of its mesh)."),
    ] = None,
    subnet: Annotated[
        str | None,
        typer.Option(help="IPv4 CIDR, e.g. 10.42.0.0/24 (an overlay's defaults to a free /16)."),
    ] = None,
    gateway: Annotated[
        str | None, typer.Option(help="Gateway address (default: the subnet's first).")
    ] = None,
    driver: Annotated[
        str, typer.Option(help="bridge (one host) or overlay (across a mesh).")
    ] = "bridge",
    span: Annotated[
        list[str] | None,
        typer.Option("--span", help="An overlay only on these hosts of the mesh (repeatable)."),
    ] = None,
    label: Annotated[list[str] | None, typer.Option(help="KEY=VALUE (repeatable).")] = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a bridge network on a host, or an overlay across a mesh (`--driver overlay`);
    a subnet overlapping another network is refused."""
    with api(ctx) as client:
        body = {
            "name": name,
            "driver": driver,
            "host_id": host_id(client, host) if host else None,
            "subnet": subnet,
            "gateway": gateway,
            "hosts": [host_id(client, h) for h in span or []],
            "labels": key_values(label),
        }
        net = client.post("/networks", body, {"wait": wait or None})
    show(net, as_json, f"network {net['name']} (id {net['id']}): {status_of(net)}", wait)


@app.command("update")
@handled
def update(
    ctx: typer.Context,
    network: Annotated[str, typer.Argument(help="Network name or id.")],
    label: Annotated[
        list[str] | None, typer.Option(help="KEY=VALUE (repeatable; replaces all labels).")
    ] = None,
    host: HostOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a network's labels (its subnet is fixed at creation)."""
    with api(ctx) as client:
        net = find(client, "network", network, host)
        row = client.request("PATCH", f"/networks/{net['id']}", None, {"labels": key_values(label)})
    show(row, as_json, f"network {row['name']} (id {row['id']}): {status_of(row)}")


@app.command("ls")
@handled
def ls(ctx: typer.Context, host: HostOpt = None, as_json: JsonOpt = False) -> None:
    """List networks, optionally of one host."""
    with api(ctx) as client:
        params = {"host_id": host_id(client, host)} if host else None
        nets = client.get("/networks", params)
    if as_json:
        print_json(nets)
        return
    rows = [
        (n["id"], n["name"], n["host_id"], n["subnet"], n.get("gateway"), status_of(n))
        for n in nets
    ]
    print_table(("id", "name", "host", "subnet", "gateway", "status"), rows)


@app.command("inspect")
@handled
def inspect(
    ctx: typer.Context,
    network: Annotated[str, typer.Argument(help="Network name or id.")],
    host: HostOpt = None,
) -> None:
    """Show a network as JSON."""
    with api(ctx) as client:
        print_json(find(client, "network", network, host))


@app.command("rm")
@handled
def rm(
    ctx: typer.Context,
    network: Annotated[str, typer.Argument(help="Network name or id.")],
    host: HostOpt = None,
    wait: WaitOpt = False,
) -> None:
    """Remove a network (refused while containers use it)."""
    with api(ctx) as client:
        net = find(client, "network", network, host)
        client.delete(f"/networks/{net['id']}", {"wait": wait or None})
    typer.echo(net["name"])
