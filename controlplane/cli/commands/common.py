"""What every API command shares: where the control plane is, errors, output, names.

Connection (first match wins):
  URL:   `weft --url URL ...`, then WEFT_URL, then http://127.0.0.1:8000.
  Token: `weft --token T ...`, then WEFT_TOKEN, then the file named by
         `weft --token-file F ...` or WEFT_TOKEN_FILE, then the admin token the
         server wrote on first start (<state dir>/admin.token, the state dir being
         WEFT_STATE_DIR or /var/lib/weft) when it is readable.

Exit codes: 0 done, 1 the control plane refused (its problem is printed with the
field at fault), 2 usage, 3 the control plane could not be reached.

httpx and rich are imported on first use so `weft --help` stays fast.
"""

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    import httpx

    from controlplane.cli.apiclient import ApiClient

EXIT_API = 1
EXIT_UNREACHABLE = 3
DEFAULT_STATE_DIR = Path("/var/lib/weft")

P = ParamSpec("P")
R = TypeVar("R")

# The options and arguments several commands take, spelt once.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
HostOpt = Annotated[str | None, typer.Option("--host", help="Host name or id.")]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="Return once the host has converged (or failed).")
]
LabelOpt = Annotated[list[str] | None, typer.Option(help="KEY=VALUE (repeatable).")]
NewLabelsOpt = Annotated[
    list[str] | None, typer.Option(help="KEY=VALUE (repeatable; replaces all labels).")
]
HostArg = Annotated[str, typer.Argument(help="Host name or id.")]
NetworkArg = Annotated[str, typer.Argument(help="Network name or id.")]
ContainerArg = Annotated[str, typer.Argument(help="Container name or id.")]
StackArg = Annotated[str, typer.Argument(help="Stack name.")]


@dataclass
class Connection:
    """Where the control plane is and the token to show it."""

    url: str | None = None
    token: str | None = None
    token_file: Path | None = None
    # The test seam: an httpx transport (e.g. MockTransport) passed as CliRunner's `obj`.
    transport: "httpx.BaseTransport | None" = None

    def resolved_url(self) -> str:
        """The base URL to call."""
        from controlplane.cli.apiclient import DEFAULT_URL

        return self.url or os.environ.get("WEFT_URL") or DEFAULT_URL

    def resolved_token(self) -> str | None:
        """The bearer token, from the first source that has one (None: send none)."""
        if self.token:
            return self.token
        if os.environ.get("WEFT_TOKEN"):
            return os.environ["WEFT_TOKEN"].strip()
        named = self.token_file or _env_path("WEFT_TOKEN_FILE")
        if named is not None:
            try:
                return named.read_text().strip()
            except OSError as exc:
                raise typer.BadParameter(
                    f"cannot read token file {named}: {exc.strerror}"
                ) from None
        state_dir = _env_path("WEFT_STATE_DIR") or DEFAULT_STATE_DIR
        try:
            return (state_dir / "admin.token").read_text().strip() or None
        except OSError:
            return None


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def connect(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(help="Control plane URL (WEFT_URL; default http://127.0.0.1:8000)."),
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="API bearer token (WEFT_TOKEN; prefer a token file).")
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the API token (WEFT_TOKEN_FILE; default the server's "
            "<state dir>/admin.token)."
        ),
    ] = None,
) -> None:
    """Remember how to reach the control plane (the root `weft` options)."""
    given = ctx.obj if isinstance(ctx.obj, Connection) else Connection()
    ctx.obj = Connection(
        url or given.url, token or given.token, token_file or given.token_file, given.transport
    )


def connection(ctx: typer.Context) -> Connection:
    """The options given to `weft` itself (environment only when there were none)."""
    obj = ctx.find_object(Connection)
    return obj if obj is not None else Connection()


@contextmanager
def api(ctx: typer.Context) -> Iterator["ApiClient"]:
    """A client of the control plane, closed afterwards."""
    from controlplane.cli.apiclient import ApiClient

    conn = connection(ctx)
    with ApiClient(conn.resolved_url(), conn.resolved_token(), transport=conn.transport) as client:
        yield client


def fail(message: str, code: int = EXIT_API) -> typer.Exit:
    """Print message on stderr; the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def handled(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the client's errors into a message on stderr and exit code 1 or 3."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        from controlplane.cli.apiclient import ControlPlaneError, ControlPlaneUnavailable

        try:
            return func(*args, **kwargs)
        except ControlPlaneUnavailable as exc:
            raise fail(str(exc), EXIT_UNREACHABLE) from None
        except ControlPlaneError as exc:
            raise fail(describe(exc)) from None

    return run


def describe(exc: Any) -> str:
    """A ControlPlaneError as lines: status and title, detail, each field at fault."""
    lines = [f"{exc.status} {exc.title}" + (f": {exc.detail}" if exc.detail else "")]
    lines += [f"  at {e.where}: {e.msg}" for e in exc.errors]
    if exc.status == 401:
        lines.append("  (give the API token: --token-file, WEFT_TOKEN_FILE or WEFT_TOKEN)")
    return "\n".join(lines)


def not_found(kind: str, ref: str) -> Exception:
    """The error for a name that matches nothing (same shape as the API's 404)."""
    from controlplane.cli.apiclient import ControlPlaneError

    return ControlPlaneError(404, "Not found", f"no {kind} {ref}")


def pick(kind: str, ref: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The one row whose id or name is ref (an error when none or several match)."""
    if ref.isdigit():
        matches = [r for r in rows if r.get("id") == int(ref)]
        if matches:
            return matches[0]
    matches = [r for r in rows if r.get("name") == ref]
    if not matches:
        raise not_found(kind, ref)
    if len(matches) > 1:
        from controlplane.cli.apiclient import ControlPlaneError

        ids = ", ".join(str(r["id"]) for r in matches)
        raise ControlPlaneError(
            409, "Ambiguous", f"several {kind}s are named {ref} (ids {ids}): give --host or the id"
        )
    return matches[0]


def host_id(client: "ApiClient", ref: str) -> int:
    """A host's id from its id or name."""
    return int(pick("host", ref, client.get("/hosts"))["id"])


def of_host(client: "ApiClient", path: str, host: str | None) -> list[dict[str, Any]]:
    """The rows of a collection of networks or containers, of one host when `host` is given."""
    params = {"host_id": host_id(client, host)} if host else None
    rows: list[dict[str, Any]] = client.get(path, params)
    return rows


def find(client: "ApiClient", kind: str, ref: str, host: str | None = None) -> dict[str, Any]:
    """A network or container (kind) by id or name, optionally of one host."""
    return pick(kind, ref, of_host(client, f"/{kind}s", host))


def key_values(items: Sequence[str] | None, what: str = "label") -> dict[str, str]:
    """`K=V` items as a dict (a bare `K` takes its value from the environment for env vars)."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not key:
            raise typer.BadParameter(f"{what} {item!r} is not KEY=VALUE")
        if not sep:
            if what != "env":
                raise typer.BadParameter(f"{what} {item!r} is not KEY=VALUE")
            if key not in os.environ:
                continue  # like `docker run -e NAME` with NAME unset
            value = os.environ[key]
        out[key] = value
    return out


def print_json(value: Any) -> None:
    """Pretty JSON on stdout."""
    typer.echo(json.dumps(value, indent=2, sort_keys=False))


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain table on stdout (rich, no box, like `docker ps`)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in columns:
        table.add_column(name.upper(), overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    width = None if sys.stdout.isatty() else 200
    Console(width=width, highlight=False).print(table)


def print_rows(
    rows: Sequence[dict[str, Any]],
    as_json: bool,
    columns: Sequence[str],
    cells: Callable[[dict[str, Any]], Sequence[Any]],
) -> None:
    """The rows as the API gave them (JSON), or a table of `cells(row)` under `columns`."""
    if as_json:
        print_json(rows)
    else:
        print_table(columns, [cells(r) for r in rows])


def show(value: Any, as_json: bool, summary: str, waited: bool = False) -> None:
    """The JSON of what the API answered, or a one-line summary.

    After `--wait`, anything but `converged` (failed, or still pending at the server's
    timeout) exits 1 with the reason, so a script never takes it for success.
    """
    if as_json:
        print_json(value)
    else:
        typer.echo(summary)
    if waited and value.get("status") != "converged":
        name = value.get("name", value.get("id"))
        raise fail(f"{name} did not converge: {status_of(value)}")


def status_of(row: dict[str, Any]) -> str:
    """`status` plus its reason when it is not converged."""
    status = str(row.get("status", ""))
    reason = row.get("status_reason")
    return f"{status} ({reason})" if reason and status != "converged" else status
