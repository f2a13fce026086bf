"""`weft containers`: run (like `docker run`), list, inspect, logs, restart, remove."""

from typing import Annotated, Any

import typer

from controlplane.commands.common import (
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
from controlplane.commands.runspec import RunOptions, run_body

app = typer.Typer(
    help="Containers, one host each (`run` takes `docker run` options).", no_args_is_help=True
)

HostOpt = Annotated[str | None, typer.Option("--host", help="Host name or id.")]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="Return once the host has converged (or failed).")
]
Strings = list[str] | None


def _state(c: dict[str, Any]) -> str:
    seen = c.get("observed") or {}
    state = seen.get("state") or "-"
    if seen.get("health"):
        state += f" ({seen['health']})"
    if state.startswith("exited") and seen.get("exit_code") is not None:
        state += f" [{seen['exit_code']}]"
    return state


def _ports(c: dict[str, Any]) -> str:
    out = []
    for p in (c.get("observed") or {}).get("ports") or c.get("ports") or []:
        host = f"{p.get('host_ip', '0.0.0.0')}:{p.get('host_port') or '?'}"
        out.append(f"{host}->{p.get('container_port')}/{p.get('protocol', 'tcp')}")
    return ", ".join(out)


def _summary(c: dict[str, Any]) -> str:
    return f"container {c['name']} (id {c['id']}): {status_of(c)}, {_state(c)}"


@app.command(
    "run",
    context_settings={"allow_interspersed_args": False},
)
@handled
def run(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image (it must be on the host already).")],
    host: Annotated[str, typer.Option("--host", help="Host name or id.")],
    name: Annotated[str, typer.Option("--name", help="Container name (unique on its host).")],
    command: Annotated[Strings, typer.Argument(help="Command and its arguments.")] = None,
    network: Annotated[
        Strings, typer.Option("--network", help="NET[:ALIAS,...] to attach to (repeatable).")
    ] = None,
    net: Annotated[
        str | None,
        typer.Option("--net", help="bridge | host | none | container:NAME (or a network name)."),
    ] = None,
    ip: Annotated[str | None, typer.Option(help="Fixed IPv4 on the first --network.")] = None,
    publish: Annotated[
        Strings, typer.Option("--publish", "-p", help="[[HOST_IP:]HOST_PORT:]PORT\\[/PROTO].")
    ] = None,
    env: Annotated[Strings, typer.Option("--env", "-e", help="KEY=VALUE (repeatable).")] = None,
    expose: Annotated[Strings, typer.Option(help="PORT\\[/PROTO] to expose (repeatable).")] = None,
    restart: Annotated[
        str | None, typer.Option(help="no | always | unless-stopped | on-failure[:N].")
    ] = None,
    health_cmd: Annotated[str | None, typer.Option(help="Health check (run by a shell).")] = None,
    health_interval: Annotated[str | None, typer.Option(help="e.g. 5s.")] = None,
    health_timeout: Annotated[str | None, typer.Option(help="e.g. 3s.")] = None,
    health_retries: Annotated[int | None, typer.Option()] = None,
    health_start_period: Annotated[str | None, typer.Option(help="e.g. 30s.")] = None,
    dns: Annotated[Strings, typer.Option(help="DNS server address (repeatable).")] = None,
    dns_search: Annotated[Strings, typer.Option(help="DNS search domain (repeatable).")] = None,
    label: Annotated[Strings, typer.Option("--label", "-l", help="KEY=VALUE (repeatable).")] = None,
    hostname: Annotated[str | None, typer.Option("--hostname")] = None,
    entrypoint: Annotated[str | None, typer.Option(help="Override the image's entrypoint.")] = None,
    stop_timeout: Annotated[
        int | None, typer.Option(help="Seconds from SIGTERM to SIGKILL.")
    ] = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Record a container; the host's reconciler creates and starts it."""
    with api(ctx) as client:
        options = RunOptions(
            name=name,
            host_id=host_id(client, host),
            image=image,
            command=list(command or []),
            networks=list(network or []),
            net=net,
            ip=ip,
            publish=list(publish or []),
            env=key_values(env, "env"),
            expose=list(expose or []),
            restart=restart,
            health_cmd=health_cmd,
            health_interval=health_interval,
            health_timeout=health_timeout,
            health_retries=health_retries,
            health_start_period=health_start_period,
            dns=list(dns or []),
            dns_search=list(dns_search or []),
            labels=key_values(label),
            hostname=hostname,
            entrypoint=entrypoint,
            stop_timeout=stop_timeout,
        )
        row = client.post("/containers", run_body(options), {"wait": wait or None})
    show(row, as_json, _summary(row))


@app.command("ls")
@handled
def ls(ctx: typer.Context, host: HostOpt = None, as_json: JsonOpt = False) -> None:
    """List containers with their desired status and observed state."""
    with api(ctx) as client:
        params = {"host_id": host_id(client, host)} if host else None
        rows = client.get("/containers", params)
    if as_json:
        print_json(rows)
        return
    table = [
        (c["id"], c["name"], c["host_id"], c["image"], status_of(c), _state(c), _ports(c))
        for c in rows
    ]
    print_table(("id", "name", "host", "image", "status", "state", "ports"), table)


@app.command("inspect")
@handled
def inspect(
    ctx: typer.Context,
    container: Annotated[str, typer.Argument(help="Container name or id.")],
    host: HostOpt = None,
) -> None:
    """Show a container (spec, status, observed state) as JSON."""
    with api(ctx) as client:
        print_json(find(client, "container", container, host))


@app.command("logs")
@handled
def logs(
    ctx: typer.Context,
    container: Annotated[str, typer.Argument(help="Container name or id.")],
    host: HostOpt = None,
    tail: Annotated[int, typer.Option("--tail", "-n", help="Last N lines.")] = 100,
) -> None:
    """Print the container's last log lines (from its host's agent)."""
    with api(ctx) as client:
        row = find(client, "container", container, host)
        typer.echo(client.text(f"/containers/{row['id']}/logs", {"tail": tail}), nl=False)


@app.command("restart")
@handled
def restart(
    ctx: typer.Context,
    container: Annotated[str, typer.Argument(help="Container name or id.")],
    host: HostOpt = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Replace the container with a fresh one from its spec (links to it follow)."""
    with api(ctx) as client:
        row = find(client, "container", container, host)
        row = client.post(f"/containers/{row['id']}/restart", None, {"wait": wait or None})
    show(row, as_json, _summary(row))


@app.command("rm")
@handled
def rm(
    ctx: typer.Context,
    container: Annotated[str, typer.Argument(help="Container name or id.")],
    host: HostOpt = None,
    wait: WaitOpt = False,
) -> None:
    """Remove a container (and its links)."""
    with api(ctx) as client:
        row = find(client, "container", container, host)
        client.delete(f"/containers/{row['id']}", {"wait": wait or None})
    typer.echo(row["name"])
