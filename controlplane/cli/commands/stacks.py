"""`weft stack`: deploy compose files, see them per service, follow and remove them.

`deploy` reads the compose file, the env files it names (relative to the file,
as Compose does), and the values of the `${VAR}`s it uses: from `--var`, then a
`.env` beside the file, then this shell's environment, so only the variables
the file names leave this machine. It creates the stack or updates it, prints
the deploy's events as they happen, and exits 1 with each service's reason
when it fails.
"""

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from controlplane.cli.commands.common import (
    JsonOpt,
    StackArg,
    api,
    fail,
    handled,
    key_values,
    print_json,
    print_rows,
    print_table,
)

if TYPE_CHECKING:
    from controlplane.cli.apiclient import ApiClient

app = typer.Typer(help="Stacks: whole applications from compose files.", no_args_is_help=True)

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments and blank lines skipped)."""
    out: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip().removeprefix("export ").strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def used_variables(text: str) -> set[str]:
    """The names `${NAME}` and `$NAME` refer to (`$$` is a literal dollar)."""
    return {a or b for a, b in _VARIABLE.findall(text.replace("$$", ""))}


def env_file_paths(text: str) -> list[str]:
    """The paths the services' `env_file:` keys name."""
    from controlplane.stacks.yamlsafe import YamlProblem, load_document

    try:
        doc = load_document(text)
    except YamlProblem:
        return []  # the server says what is wrong with it
    paths: list[str] = []
    services = doc.get("services") if isinstance(doc, dict) else None
    for svc in (services or {}).values():
        value = svc.get("env_file") if isinstance(svc, dict) else None
        for item in value if isinstance(value, list) else [value]:
            path = item.get("path") if isinstance(item, dict) else item
            if isinstance(path, str):
                paths.append(path)
    return paths


def request_body(file: Path, name: str | None, given: dict[str, str]) -> dict[str, Any]:
    """The JSON form of POST /stacks for a compose file on this machine."""
    text = file.read_text()
    folder = file.resolve().parent
    dotenv = folder / ".env"
    defaults = read_dotenv(dotenv) if dotenv.is_file() else {}
    variables = {}
    for var in sorted(used_variables(text)):
        for source in (given, defaults, os.environ):
            if var in source:
                variables[var] = source[var]
                break
    env_files = {}
    for path in env_file_paths(text):
        where = folder / path
        if where.is_file():
            env_files[path] = where.read_text()
    body: dict[str, Any] = {"compose": text, "variables": variables, "env_files": env_files}
    if name:
        body["name"] = name
    return body


def deploy_file(
    client: "ApiClient",
    compose_file: Path,
    name: str | None = None,
    variables: dict[str, str] | None = None,
    follow: bool = True,
) -> dict[str, Any]:
    """Create or update the stack a compose file describes; follow it to its end.

    Returns the stack as the API shows it after the deploy ended (or at once,
    without `follow`).
    """
    body = request_body(compose_file, name, variables or {})
    last = max([0] + [e["id"] for e in client.get("/events", {"limit": 1})])
    target = name or _declared_name(body)
    exists = target is not None and any(s["name"] == target for s in client.get("/stacks"))
    if exists:
        stack = client.request("PUT", f"/stacks/{target}", body=body)
    else:
        stack = client.post("/stacks", body)
    typer.echo(f"stack {stack['name']}: {'updating' if exists else 'deploying'}")
    if not follow:
        return dict(stack)
    _follow(client, stack["name"], last)
    return dict(client.get(f"/stacks/{stack['name']}"))


@app.command("deploy")
@handled
def deploy(
    ctx: typer.Context,
    compose_file: Annotated[
        Path, typer.Option("--compose-file", "-c", help="The compose file.", exists=True)
    ],
    name: Annotated[str | None, typer.Argument(help="Stack name (default: the file's).")] = None,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="KEY=VALUE for ${KEY} (repeatable).")
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Return at once; do not follow the deploy.")
    ] = False,
) -> None:
    """Create or update a stack, then follow it until it converged or failed."""
    with api(ctx) as client:
        stack = deploy_file(client, compose_file, name, key_values(var, "variable"), not detach)
    if detach:
        return
    print_services(stack)
    if stack["status"] != "converged":
        raise fail(f"stack {stack['name']} {stack['status']}: {stack['status_reason']}")


def _declared_name(body: dict[str, Any]) -> str | None:
    """The name at the top of the file, if it has one (for create-or-update)."""
    from controlplane.stacks.yamlsafe import YamlProblem, load_document

    try:
        doc = load_document(body["compose"])
    except YamlProblem:
        return None
    value = doc.get("name") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


def _follow(client: "ApiClient", name: str, after: int) -> None:
    """Print the stack's events until its deploy ends."""
    for sse in client.stream(f"/stacks/{name}/events", {"after": after}):
        e = sse.json()
        typer.echo(f"  {e['action']:<9} {e['result']:<8} {e.get('reason') or ''}".rstrip())
        if e["action"] == "deploy" and e["result"] in ("done", "failed"):
            return


def print_services(stack: dict[str, Any]) -> None:
    """The stack's services as a table."""
    rows = [
        (
            s["name"],
            s["image"],
            f"{s['running']}/{s['desired']}",
            ",".join(s["hosts"]),
            s["state"],
            s.get("last_error"),
        )
        for s in stack["services"]
    ]
    print_table(("service", "image", "replicas", "hosts", "state", "last error"), rows)


@app.command("ls")
@handled
def ls(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Stacks with their status and replicas running."""
    with api(ctx) as client:
        stacks = client.get("/stacks")
    print_rows(stacks, as_json, ("name", "status", "services", "replicas", "updated"), _stack_row)


def _stack_row(s: dict[str, Any]) -> tuple[Any, ...]:
    running = sum(v["running"] for v in s["services"])
    desired = sum(v["desired"] for v in s["services"])
    updated = str(s["updated_at"])[:19]
    return (s["name"], s["status"], len(s["services"]), f"{running}/{desired}", updated)


@app.command("ps")
@handled
def ps(
    ctx: typer.Context,
    name: StackArg,
    as_json: JsonOpt = False,
) -> None:
    """A stack's services: image, replicas running/desired, hosts, state, last error."""
    with api(ctx) as client:
        stack = client.get(f"/stacks/{name}")
    if as_json:
        print_json(stack)
        return
    reason = f" ({stack['status_reason']})" if stack.get("status_reason") else ""
    typer.echo(f"stack {stack['name']}: {stack['status']}{reason}")
    print_services(stack)


@app.command("rm")
@handled
def rm(
    ctx: typer.Context,
    name: StackArg,
    volumes: Annotated[bool, typer.Option("--volumes", help="Remove its volumes too.")] = False,
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Do not wait.")] = False,
) -> None:
    """Remove a stack: containers, networks and links (volumes with --volumes)."""
    with api(ctx) as client:
        client.delete(f"/stacks/{name}", {"volumes": volumes, "wait": not detach})
    typer.echo(f"stack {name}: removed" if not detach else f"stack {name}: removing")


@app.command("events")
@handled
def events(
    ctx: typer.Context,
    name: StackArg,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep following.")] = False,
) -> None:
    """The stack's events (deploys, updates, waits, failures); --follow streams new ones."""
    with api(ctx) as client:
        stack = client.get(f"/stacks/{name}")
        past = client.get("/events", {"resource": "stack", "resource_id": stack["id"]})
        for e in past:
            typer.echo(_event_line(e))
        if not follow:
            return
        last = max([0] + [e["id"] for e in past])
        try:
            for sse in client.stream(f"/stacks/{name}/events", {"after": last}):
                typer.echo(_event_line(sse.json()))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None


def _event_line(e: dict[str, Any]) -> str:
    at = str(e["at"])[:19]
    return f"{at} {e['action']:<9} {e['result']:<8} {e.get('reason') or ''}".rstrip()
