"""`weft hosts`: register Docker hosts by their agent, update, list, inspect, remove."""

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from controlplane.cli.commands.common import (
    HostArg,
    JsonOpt,
    LabelOpt,
    NewLabelsOpt,
    api,
    handled,
    host_id,
    key_values,
    print_json,
    print_rows,
    show,
)

app = typer.Typer(help="Docker hosts and their agents.", no_args_is_help=True)


def _agent_token(token: str | None, token_file: Path | None) -> str:
    if token and token_file:
        raise typer.BadParameter("give --agent-token or --agent-token-file, not both")
    if token_file is not None:
        try:
            return token_file.read_text().strip()
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {token_file}: {exc.strerror}") from None
    if not token:
        raise typer.BadParameter(
            "the agent's token is needed: --agent-token-file FILE (or --agent-token)"
        )
    return token


@app.command("add")
@handled
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The agent's base URL, e.g. http://10.0.0.5:7946.")],
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--agent-token-file", help="File holding the agent's token (its --token-file)."
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--agent-token", help="The agent's token itself.")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Name of the host (default: the URL's host part).")
    ] = None,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a host; its agent is called first (nothing is stored if that fails)."""
    body = {
        "name": name or urlsplit(url).hostname or url,
        "agent_url": url,
        "agent_token": _agent_token(token, token_file),
        "labels": key_values(label),
    }
    with api(ctx) as client:
        host = client.post("/hosts", body)
    show(host, as_json, f"host {host['name']} (id {host['id']}): {host['status']}")


@app.command("update")
@handled
def update(
    ctx: typer.Context,
    host: HostArg,
    label: NewLabelsOpt = None,
    no_labels: Annotated[bool, typer.Option("--no-labels", help="Remove every label.")] = False,
    token_file: Annotated[
        Path | None, typer.Option("--agent-token-file", help="File holding the agent's new token.")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--agent-token", help="The agent's new token itself.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a host's labels or the token its agent expects."""
    body: dict[str, object] = {}
    if label or no_labels:
        body["labels"] = key_values(label)
    if token or token_file:
        body["agent_token"] = _agent_token(token, token_file)
    if not body:
        raise typer.BadParameter("nothing to change: give --label, --no-labels or a token")
    with api(ctx) as client:
        row = client.request("PATCH", f"/hosts/{host_id(client, host)}", None, body)
    show(row, as_json, f"host {row['name']} (id {row['id']}): {row['status']}")


@app.command("ls")
@handled
def ls(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List hosts with their status (from the heartbeat) and when they were last seen."""
    with api(ctx) as client:
        hosts = client.get("/hosts")
    print_rows(
        hosts,
        as_json,
        ("id", "name", "status", "agent", "docker", "last seen", "labels"),
        lambda h: (
            h["id"],
            h["name"],
            h["status"],
            h["agent_url"],
            h.get("docker_version"),
            (h.get("last_seen") or "")[:19],
            ",".join(f"{k}={v}" for k, v in h.get("labels", {}).items()),
        ),
    )


@app.command("inspect")
@handled
def inspect(ctx: typer.Context, host: HostArg) -> None:
    """Show a host as JSON."""
    with api(ctx) as client:
        print_json(client.get(f"/hosts/{host_id(client, host)}"))


@app.command("rm")
@handled
def rm(
    ctx: typer.Context,
    host: HostArg,
    force: Annotated[
        bool,
        typer.Option("--force", "-f", help="Remove its weft containers and networks too."),
    ] = False,
    forget: Annotated[
        bool,
        typer.Option("--forget", help="With --force: forget a host whose agent is gone for good."),
    ] = False,
) -> None:
    """Forget a host (refused while weft containers run there, unless --force)."""
    with api(ctx) as client:
        hid = host_id(client, host)
        client.delete(f"/hosts/{hid}", {"force": force, "forget": forget})
    typer.echo(host)
