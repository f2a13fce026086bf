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

app = typer.Typer(help="Bridge networks (one host each).", no_args_is_help=True)


@app.command("create")
@handled
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Network name (unique on its host).")],
    host: Annotated[str, typer.Option("--host", help="Host name or id.")],
    subnet: Annotated[str, typer.Option(help="IPv4 CIDR, e.g. 10.42.0.0/24.")],
    gateway: Annotated[
        str | None, typer.Option(help="Gateway address (default: the subnet's first).")
    ] = None,
    label: LabelOpt = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a bridge network on a host (a subnet overlapping another there is refused)."""
    with api(ctx) as client:
        body = {
            "name": name,
            "host_id": host_id(client, host),
            "subnet": subnet,
            "gateway": gateway,
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
