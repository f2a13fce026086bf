"""`weft events`: what the control plane did, as a list or followed live (SSE)."""

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from controlplane.cli.commands.common import HostOpt, JsonOpt, api, handled, host_id, print_rows

app = typer.Typer(help="What happened (resource, action, result, reason).", no_args_is_help=True)

COLUMNS = ("id", "at", "resource", "name", "action", "result", "reason")
if TYPE_CHECKING:
    from controlplane.cli.apiclient import ApiClient

RECONNECT_FIRST = 1.0  # seconds before following again after a lost connection
RECONNECT_MAX = 10.0
_sleep = time.sleep  # tests replace it


def _row(e: dict[str, Any]) -> tuple[Any, ...]:
    name = e.get("resource_name") or e.get("resource_id")
    return (
        e["id"],
        str(e["at"])[:19],
        e["resource"],
        name,
        e["action"],
        e["result"],
        e.get("reason"),
    )


def _matches(e: dict[str, Any], filters: dict[str, Any]) -> bool:
    return all(e.get(k) == v for k, v in filters.items() if v is not None)


def _line(e: dict[str, Any]) -> str:
    return " ".join("-" if v is None else str(v) for v in _row(e))


@app.command("ls")
@handled
def ls(
    ctx: typer.Context,
    resource: Annotated[
        str | None, typer.Option(help="host | network | container | link ...")
    ] = None,
    action: Annotated[str | None, typer.Option(help="create | recreate | remove ...")] = None,
    result: Annotated[str | None, typer.Option(help="ok | failed | requested.")] = None,
    host: HostOpt = None,
    after: Annotated[int | None, typer.Option(help="Only events with a larger id.")] = None,
    limit: Annotated[int, typer.Option(help="The newest N (at most 1000).")] = 100,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Then print new events as they happen.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List events, oldest first; with --follow keep printing new ones (JSON lines with --json)."""
    with api(ctx) as client:
        filters: dict[str, Any] = {
            "resource": resource,
            "action": action,
            "result": result,
            "host_id": host_id(client, host) if host else None,
        }
        # Following: the newest id before the list, so no event falls between list and stream.
        newest = client.get("/events", {"limit": 1}) if follow else []
        events = client.get("/events", {**filters, "after": after, "limit": limit})
        if not follow:
            print_rows(events, as_json, COLUMNS, _row)
            return
        last = max([after or 0] + [e["id"] for e in events] + [e["id"] for e in newest])
        try:
            for e in events:
                _emit(e, as_json)
            _follow(client, filters, last, as_json)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None


def _follow(client: "ApiClient", filters: dict[str, Any], last: int, as_json: bool) -> None:
    """Print streamed events until the server ends the stream.

    A lost connection (the control plane restarting, say) is not the end: the
    stream is opened again after the last event seen, as EventSource would, with
    a growing pause, so nothing is missed or printed twice.
    """
    from controlplane.cli.apiclient import ControlPlaneUnavailable

    delay = RECONNECT_FIRST
    while True:
        try:
            for sse in client.stream("/events/stream", {**filters, "after": last}):
                e = sse.json()
                last = max(last, e["id"])
                delay = RECONNECT_FIRST
                # The server filters the stream too; the check here guards older servers.
                if _matches(e, filters):
                    _emit(e, as_json)
            return
        except ControlPlaneUnavailable as exc:
            typer.echo(f"weft: {exc}; resuming after event {last} in {delay:g} s", err=True)
            _sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)


def _emit(e: dict[str, Any], as_json: bool) -> None:
    import json

    typer.echo(json.dumps(e) if as_json else _line(e))
