"""`weft tokens`: the API's bearer tokens (admin, or reader: read-only)."""

from typing import Annotated, Literal

import typer

from controlplane.cli.commands.common import JsonOpt, api, handled, pick, print_json, print_rows

app = typer.Typer(
    help="API tokens: admins may do everything, readers may only read.", no_args_is_help=True
)


@app.command("create")
@handled
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name to tell the token by (unique).")],
    role: Annotated[
        Literal["reader", "admin"], typer.Option(help="reader: GET only; admin: everything.")
    ] = "reader",
    as_json: JsonOpt = False,
) -> None:
    """Make a token and print it: it is shown this once (only its hash is kept)."""
    with api(ctx) as client:
        made = client.post("/tokens", {"name": name, "role": role})
    if as_json:
        print_json(made)
    else:
        typer.echo(made["token"])


@app.command("ls")
@handled
def ls(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List tokens by name and role (never the tokens themselves)."""
    with api(ctx) as client:
        rows = client.get("/tokens")
    print_rows(
        rows,
        as_json,
        ("id", "name", "role", "created"),
        lambda t: (t["id"], t["name"], t["role"], t["created_at"]),
    )


@app.command("rm")
@handled
def rm(ctx: typer.Context, token: Annotated[str, typer.Argument(help="Token name or id.")]) -> None:
    """Revoke a token at once (the last admin token cannot be removed)."""
    with api(ctx) as client:
        row = pick("token", token, client.get("/tokens"))
        client.delete(f"/tokens/{row['id']}")
    typer.echo(row["name"])
