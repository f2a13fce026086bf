"""`weft containers`: run (like `docker run`), update, list, inspect, logs, restart, remove."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from controlplane.cli.commands.common import (
    JsonOpt,
    api,
    find,
    handled,
    host_id,
    key_values,
    pick,
    print_json,
    print_table,
    show,
    status_of,
)
from controlplane.cli.commands.runspec import RunOptions, parse_link, run_body, update_body

if TYPE_CHECKING:
    from controlplane.cli.apiclient import ApiClient

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


def link_bodies(client: "ApiClient", links: list[str], host: int) -> list[dict[str, Any]]:
    """`--link NAME[:ALIAS]` items as the API's `links`: NAME (or id) is looked up on the
    container's own host first, then on every host (links may cross hosts)."""
    if not links:
        return []
    rows = client.get("/containers")
    local = [r for r in rows if r.get("host_id") == host]
    out = []
    for item in links:
        ref, alias = parse_link(item)
        here = any(ref in (str(r.get("id")), r.get("name")) for r in local)
        target = pick("container", ref, local if here else rows)
        out.append({"to": int(target["id"]), "alias": alias})
    return out


def _summary(c: dict[str, Any]) -> str:
    return f"container {c['name']} (id {c['id']}): {status_of(c)}, {_state(c)}"


# `docker run` options, shared by `run` and `update`.
NetworkOpt = Annotated[
    Strings, typer.Option("--network", help="NET[:ALIAS,...] to attach to (repeatable).")
]
NetOpt = Annotated[
    str | None,
    typer.Option("--net", help="bridge | host | none | container:NAME (or a network name)."),
]
IpOpt = Annotated[str | None, typer.Option(help="Fixed IPv4 on the first --network.")]
PublishOpt = Annotated[
    Strings, typer.Option("--publish", "-p", help="[[HOST_IP:]HOST_PORT:]PORT\\[/PROTO].")
]
EnvOpt = Annotated[Strings, typer.Option("--env", "-e", help="KEY=VALUE (repeatable).")]
ExposeOpt = Annotated[Strings, typer.Option(help="PORT\\[/PROTO] to expose (repeatable).")]
RestartOpt = Annotated[
    str | None, typer.Option(help="no | always | unless-stopped | on-failure[:N].")
]
HealthCmdOpt = Annotated[str | None, typer.Option(help="Health check (run by a shell).")]
DurationOpt = Annotated[str | None, typer.Option(help="A duration, e.g. 5s or 1m30s.")]
RetriesOpt = Annotated[int | None, typer.Option(help="Failures before unhealthy.")]
DnsOpt = Annotated[Strings, typer.Option(help="DNS server address (repeatable).")]
DnsSearchOpt = Annotated[Strings, typer.Option(help="DNS search domain (repeatable).")]
LabelOpt = Annotated[Strings, typer.Option("--label", "-l", help="KEY=VALUE (repeatable).")]
HostnameOpt = Annotated[str | None, typer.Option("--hostname")]
EntrypointOpt = Annotated[str | None, typer.Option(help="Override the image's entrypoint.")]
StopTimeoutOpt = Annotated[int | None, typer.Option(help="Seconds from SIGTERM to SIGKILL.")]
LinkOpt = Annotated[
    Strings,
    typer.Option(
        "--link",
        help="NAME[:ALIAS]: ALIAS (default NAME) resolves to container NAME, with "
        "ALIAS_PORT_* env vars; it follows NAME to new addresses (repeatable).",
    ),
]


@app.command("run", context_settings={"allow_interspersed_args": False})
@handled
def run(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image (it must be on the host already).")],
    host: Annotated[str, typer.Option("--host", help="Host name or id.")],
    name: Annotated[str, typer.Option("--name", help="Container name (unique on its host).")],
    command: Annotated[Strings, typer.Argument(help="Command and its arguments.")] = None,
    network: NetworkOpt = None,
    net: NetOpt = None,
    ip: IpOpt = None,
    publish: PublishOpt = None,
    env: EnvOpt = None,
    expose: ExposeOpt = None,
    restart: RestartOpt = None,
    health_cmd: HealthCmdOpt = None,
    health_interval: DurationOpt = None,
    health_timeout: DurationOpt = None,
    health_retries: RetriesOpt = None,
    health_start_period: DurationOpt = None,
    dns: DnsOpt = None,
    dns_search: DnsSearchOpt = None,
    label: LabelOpt = None,
    hostname: HostnameOpt = None,
    entrypoint: EntrypointOpt = None,
    stop_timeout: StopTimeoutOpt = None,
    link: LinkOpt = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Record a container; the host's reconciler creates and starts it."""
    with api(ctx) as client:
        hid = host_id(client, host)
        options = RunOptions(
            name=name,
            host_id=hid,
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
            links=link_bodies(client, list(link or []), hid),
        )
        row = client.post("/containers", run_body(options), {"wait": wait or None})
    show(row, as_json, _summary(row), wait)


@app.command("update")
@handled
def update(
    ctx: typer.Context,
    container: Annotated[str, typer.Argument(help="Container name or id.")],
    host: HostOpt = None,
    image: Annotated[str | None, typer.Option(help="A new image.")] = None,
    cmd: Annotated[
        str | None, typer.Option("--cmd", help="A new command, split like a shell does.")
    ] = None,
    network: NetworkOpt = None,
    net: NetOpt = None,
    ip: IpOpt = None,
    publish: PublishOpt = None,
    env: EnvOpt = None,
    expose: ExposeOpt = None,
    restart: RestartOpt = None,
    health_cmd: HealthCmdOpt = None,
    health_interval: DurationOpt = None,
    health_timeout: DurationOpt = None,
    health_retries: RetriesOpt = None,
    health_start_period: DurationOpt = None,
    dns: DnsOpt = None,
    dns_search: DnsSearchOpt = None,
    label: LabelOpt = None,
    hostname: HostnameOpt = None,
    entrypoint: EntrypointOpt = None,
    stop_timeout: StopTimeoutOpt = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Change a container's spec: each option given replaces that whole field (all -e, all
    -p ...); the container is recreated when its spec changed."""
    import shlex

    options = RunOptions(
        name="",
        host_id=0,
        image=image or "",
        command=shlex.split(cmd) if cmd else [],
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
    body = update_body(options)
    if not body:
        raise typer.BadParameter("nothing to change: give at least one option")
    with api(ctx) as client:
        row = find(client, "container", container, host)
        row = client.request("PATCH", f"/containers/{row['id']}", {"wait": wait or None}, body)
    show(row, as_json, _summary(row), wait)


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
    show(row, as_json, _summary(row), wait)


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
