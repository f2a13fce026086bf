"""`weft mesh show|password|rotate`: the encrypted overlays' tunnels (`weave --password`)."""

import sys
from typing import Annotated, Any

import typer

from controlplane.cli.commands.common import JsonOpt, api, fail, handled, print_json, print_table

app = typer.Typer(help="The WireGuard tunnels of encrypted overlays: password and keys.")


def _print(mesh: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(mesh)
        return
    psk = mesh["psk_fingerprint"] or "none"
    typer.echo(f"tunnel network {mesh['tunnel_network']}; pre-shared key: {psk}")
    rows = [
        (h["name"], h["interface"], h["tunnel_address"], h["public_key"] or "-")
        for h in mesh["hosts"]
    ]
    print_table(["host", "interface", "tunnel address", "public key"], rows)


@app.command("show")
@handled
def show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Each host's tunnel address, interface and public key, and the pre-shared key's digest."""
    with api(ctx) as client:
        _print(client.get("/mesh"), as_json)


@app.command("password")
@handled
def password(
    ctx: typer.Context,
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input.")
    ] = False,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the pre-shared key.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set the mesh password (weave --password): every tunnel's pre-shared key comes from it.
    Asked for without echo unless --stdin; never put it on the command line."""
    with api(ctx) as client:
        if clear:
            client.delete("/mesh/password")
            _print(client.get("/mesh"), as_json)
            return
        if stdin:
            secret = sys.stdin.readline().rstrip("\n")
        else:
            secret = typer.prompt("mesh password", hide_input=True, confirmation_prompt=True)
        if not secret:
            raise fail("an empty password")
        _print(client.request("PUT", "/mesh/password", body={"password": secret}), as_json)


@app.command("rotate")
@handled
def rotate(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """A new WireGuard key pair on every tunnelled host; networks stay as they are."""
    with api(ctx) as client:
        _print(client.post("/mesh/rotate", {}), as_json)
