"""`weft networks`: bridge networks, one host each."""

from typing import Annotated, Any

import typer

from controlplane.cli.commands.common import (
    HostOpt,
    JsonOpt,
    LabelOpt,
    NetworkArg,
    NewLabelsOpt,
    WaitOpt,
    api,
    find,
    handled,
    host_id,
    key_values,
    of_host,
    print_json,
    print_rows,
    show,
    status_of,
)

app = typer.Typer(
    help="Networks: bridges (one host each) and overlays (across a mesh).", no_args_is_help=True
)


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
    encrypted: Annotated[
        bool, typer.Option("--encrypted", help="An overlay whose VXLAN runs inside WireGuard.")
    ] = False,
    label: LabelOpt = None,
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
            "encrypted": encrypted,
            "labels": key_values(label),
        }
        net = client.post("/networks", body, {"wait": wait or None})
    show(net, as_json, _summary(net), wait)


@app.command("update")
@handled
def update(
    ctx: typer.Context,
    network: NetworkArg,
    label: NewLabelsOpt = None,
    host: HostOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a network's labels (its subnet is fixed at creation)."""
    with api(ctx) as client:
        net = find(client, "network", network, host)
        row = client.request("PATCH", f"/networks/{net['id']}", None, {"labels": key_values(label)})
    show(row, as_json, _summary(row))


@app.command("ls")
@handled
def ls(ctx: typer.Context, host: HostOpt = None, as_json: JsonOpt = False) -> None:
    """List networks, optionally of one host."""
    with api(ctx) as client:
        nets = of_host(client, "/networks", host)
    print_rows(
        nets,
        as_json,
        ("id", "name", "host", "subnet", "gateway", "status"),
        lambda n: (n["id"], n["name"], n["host_id"], n["subnet"], n.get("gateway"), status_of(n)),
    )


@app.command("inspect")
@handled
def inspect(ctx: typer.Context, network: NetworkArg, host: HostOpt = None) -> None:
    """Show a network as JSON."""
    with api(ctx) as client:
        print_json(find(client, "network", network, host))


@app.command("rm")
@handled
def rm(
    ctx: typer.Context, network: NetworkArg, host: HostOpt = None, wait: WaitOpt = False
) -> None:
    """Remove a network (refused while containers use it)."""
    with api(ctx) as client:
        net = find(client, "network", network, host)
        client.delete(f"/networks/{net['id']}", {"wait": wait or None})
    typer.echo(net["name"])


def _summary(net: dict[str, Any]) -> str:
    return f"network {net['name']} (id {net['id']}): {status_of(net)}"
