"""`weft links`: inside FROM, ALIAS resolves to TO (with Docker-compatible env vars)."""

from typing import Annotated, Any

import typer

from controlplane.cli.commands.common import (
    JsonOpt,
    api,
    find,
    handled,
    print_json,
    print_rows,
    show,
)

app = typer.Typer(
    help="Links: FROM reaches TO as ALIAS (hosts entry plus ALIAS_PORT_* env vars); they "
    "follow TO to new addresses, may be circular and may point at a container not running yet.",
    no_args_is_help=True,
)

HostOpt = Annotated[
    str | None, typer.Option("--host", help="Host of the containers named (name or id).")
]


def _names(client: Any) -> dict[int, str]:
    return {int(c["id"]): str(c["name"]) for c in client.get("/containers")}


@app.command("create")
@handled
def create(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="Container that gets ALIAS.")],
    target: Annotated[str, typer.Argument(metavar="TO", help="Container ALIAS points at.")],
    alias: Annotated[str, typer.Argument(help="The name FROM uses, e.g. MYDB.")],
    host: HostOpt = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Return once FROM's host has applied it.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Link FROM to TO as ALIAS."""
    with api(ctx) as client:
        from_row = find(client, "container", source, host)
        to = find(client, "container", target, host)
        body = {"from": from_row["id"], "to": to["id"], "alias": alias}
        link = client.post("/links", body, {"wait": wait or None})
    where = link.get("address") or "no address yet"
    show(
        link, as_json, f"link {link['id']}: {from_row['name']} -> {to['name']} as {alias} ({where})"
    )


@app.command("ls")
@handled
def ls(
    ctx: typer.Context,
    container: Annotated[
        str | None, typer.Option(help="Only links from or to this container (name or id).")
    ] = None,
    host: HostOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List links with TO's current address."""
    with api(ctx) as client:
        params = (
            {"container_id": find(client, "container", container, host)["id"]}
            if container
            else None
        )
        links = client.get("/links", params)
        names = _names(client) if links and not as_json else {}
    print_rows(
        links,
        as_json,
        ("id", "from", "to", "alias", "address"),
        lambda k: (
            k["id"],
            names.get(k["from"], k["from"]),
            names.get(k["to"], k["to"]),
            k["alias"],
            k.get("address"),
        ),
    )


@app.command("inspect")
@handled
def inspect(ctx: typer.Context, link: Annotated[int, typer.Argument(help="Link id.")]) -> None:
    """Show a link as JSON, with the env vars FROM sees."""
    with api(ctx) as client:
        print_json(client.get(f"/links/{link}"))


@app.command("rm")
@handled
def rm(ctx: typer.Context, link: Annotated[int, typer.Argument(help="Link id.")]) -> None:
    """Remove a link (FROM's hosts entry and variables for it go at the next push)."""
    with api(ctx) as client:
        client.delete(f"/links/{link}")
    typer.echo(link)
