"""`weft containers`: run (like `docker run`), update, list, inspect, logs, restart, remove."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from controlplane.cli.commands.common import (
    ContainerArg,
    HostOpt,
    JsonOpt,
    WaitOpt,
    api,
    find,
    handled,
    host_id,
    of_host,
    pick,
    print_json,
    print_rows,
    show,
    status_of,
)
from controlplane.cli.commands.runspec import (
    SpecOptions,
    parse_link,
    run_body,
    spec_options,
    update_body,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from controlplane.cli.apiclient import ApiClient
    from controlplane.contract.apitypes import ContainerObserved, InlineLink

app = typer.Typer(
    help="Containers, one host each (`run` takes `docker run` options).", no_args_is_help=True
)

Strings = list[str] | None


def dump(body: "BaseModel") -> Any:
    """A request body as JSON data: only the fields the command set."""
    return body.model_dump(mode="json", exclude_unset=True)


def _observed(c: dict[str, Any]) -> "ContainerObserved":
    from controlplane.contract.apitypes import ContainerObserved

    return ContainerObserved.model_validate(c.get("observed") or {})


def _state(c: dict[str, Any]) -> str:
    seen = _observed(c)
    state = seen.state or "-"
    if seen.health:
        state += f" ({seen.health})"
    if state.startswith("exited") and seen.exit_code is not None:
        state += f" [{seen.exit_code}]"
    return state


def _ports(c: dict[str, Any]) -> str:
    from controlplane.contract.apitypes import PortBinding

    bound = _observed(c).ports
    if bound:
        return ", ".join(
            f"{p.host_ip}:{p.host_port}->{p.container_port}/{p.protocol}" for p in bound
        )
    asked = [PortBinding.model_validate(p) for p in c.get("ports") or []]
    return ", ".join(
        f"{p.host_ip}:{p.host_port or '?'}->{p.container_port}/{p.protocol}" for p in asked
    )


def link_bodies(client: "ApiClient", links: list[str], host: int) -> list["InlineLink"]:
    """`--link NAME[:ALIAS]` items as the API's `links`: NAME (or id) is looked up on the
    container's own host first, then on every host (links may cross hosts)."""
    from controlplane.contract.apitypes import InlineLink

    if not links:
        return []
    rows = client.get("/containers")
    local = [r for r in rows if r.get("host_id") == host]
    out = []
    for item in links:
        ref, alias = parse_link(item)
        here = any(ref in (str(r.get("id")), r.get("name")) for r in local)
        target = pick("container", ref, local if here else rows)
        out.append(InlineLink.model_construct(to=int(target["id"]), alias=alias))
    return out


def _summary(c: dict[str, Any]) -> str:
    return f"container {c['name']} (id {c['id']}): {status_of(c)}, {_state(c)}"


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
@spec_options
def run(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image (it must be on the host already).")],
    host: Annotated[str, typer.Option("--host", help="Host name or id.")],
    name: Annotated[str, typer.Option("--name", help="Container name (unique on its host).")],
    options: SpecOptions,
    command: Annotated[Strings, typer.Argument(help="Command and its arguments.")] = None,
    link: LinkOpt = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Record a container; the host's reconciler creates and starts it."""
    with api(ctx) as client:
        hid = host_id(client, host)
        links = link_bodies(client, list(link or []), hid)
        body = run_body(options, name, hid, image, command or [], links)
        row = client.post("/containers", dump(body), {"wait": wait or None})
    show(row, as_json, _summary(row), wait)


@app.command("update")
@handled
@spec_options
def update(
    ctx: typer.Context,
    container: ContainerArg,
    options: SpecOptions,
    host: HostOpt = None,
    image: Annotated[str | None, typer.Option(help="A new image.")] = None,
    cmd: Annotated[
        str | None, typer.Option("--cmd", help="A new command, split like a shell does.")
    ] = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Change a container's spec: each option given replaces that whole field (all -e, all
    -p ...); the container is recreated when its spec changed."""
    import shlex

    body = update_body(options, image, shlex.split(cmd) if cmd else [])
    if not body.model_fields_set:
        raise typer.BadParameter("nothing to change: give at least one option")
    with api(ctx) as client:
        row = find(client, "container", container, host)
        row = client.request(
            "PATCH", f"/containers/{row['id']}", {"wait": wait or None}, dump(body)
        )
    show(row, as_json, _summary(row), wait)


@app.command("ls")
@handled
def ls(ctx: typer.Context, host: HostOpt = None, as_json: JsonOpt = False) -> None:
    """List containers with their desired status and observed state."""
    with api(ctx) as client:
        rows = of_host(client, "/containers", host)
    print_rows(
        rows,
        as_json,
        ("id", "name", "host", "image", "status", "state", "ports"),
        lambda c: (
            c["id"],
            c["name"],
            c["host_id"],
            c["image"],
            status_of(c),
            _state(c),
            _ports(c),
        ),
    )


@app.command("inspect")
@handled
def inspect(
    ctx: typer.Context,
    container: ContainerArg,
    host: HostOpt = None,
) -> None:
    """Show a container (spec, status, observed state) as JSON."""
    with api(ctx) as client:
        print_json(find(client, "container", container, host))


@app.command("logs")
@handled
def logs(
    ctx: typer.Context,
    container: ContainerArg,
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
    container: ContainerArg,
    host: HostOpt = None,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Restart the container in place (`docker restart`); links to it follow a new address."""
    with api(ctx) as client:
        row = find(client, "container", container, host)
        row = client.post(f"/containers/{row['id']}/restart", None, {"wait": wait or None})
    show(row, as_json, _summary(row), wait)


@app.command("rm")
@handled
def rm(
    ctx: typer.Context,
    container: ContainerArg,
    host: HostOpt = None,
    wait: WaitOpt = False,
) -> None:
    """Remove a container (and its links)."""
    with api(ctx) as client:
        row = find(client, "container", container, host)
        client.delete(f"/containers/{row['id']}", {"wait": wait or None})
    typer.echo(row["name"])
