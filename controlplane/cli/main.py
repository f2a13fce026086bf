"""The `weft` command line: one entry point, one sub-command group per concern.

Each command imports its implementation lazily, so `weft --help` stays fast and
a host that only runs the agent needs none of the control plane's modules.
"""

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from controlplane.cli.commands import register as register_api_commands
from controlplane.cli.commands.common import EXIT_API, describe, fail
from controlplane.cli.dev import dev_app

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    help="weft: weave Docker hosts together and deploy stacks across them.", no_args_is_help=True
)
images_app = typer.Typer(
    help="Build weft's images (offline when no registry answers).", no_args_is_help=True
)
world_app = typer.Typer(
    help="The world stack: MariaDB with GeoNames plus the search API.", no_args_is_help=True
)
app.add_typer(images_app, name="images")
app.add_typer(world_app, name="world")
db_app = typer.Typer(help="The control plane's database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(dev_app, name="dev")
# hosts, networks, containers, links, events: the control plane's API (--url/--token options).
register_api_commands(app)


def building(func: Callable[P, R]) -> Callable[P, R]:
    """The builders' errors, or an engine that does not answer: the reason on stderr, exit 1.

    A build log's tail, when there is one, follows the reason, indented; no traceback.
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        import docker.errors

        from controlplane.build.errors import BuildError
        from controlplane.cli.apiclient import ControlPlaneError, ControlPlaneUnavailable

        try:
            return func(*args, **kwargs)
        except BuildError as exc:
            log = "".join(f"\n  {line}" for line in exc.log.splitlines())
            raise fail(exc.reason + log, EXIT_API) from None
        except ControlPlaneError as exc:
            raise fail(describe(exc), EXIT_API) from None
        except ControlPlaneUnavailable as exc:
            raise fail(str(exc), EXIT_API) from None
        except docker.errors.DockerException as exc:
            raise fail("Docker engine: " + " ".join(str(exc).split()), EXIT_API) from None

    return run


@app.command()
def version() -> None:
    """Print weft's version."""
    from controlplane import __version__

    typer.echo(__version__)


@app.command()
def agent(
    listen: Annotated[
        str | None, typer.Option(help="host:port to serve on (default 127.0.0.1:7946).")
    ] = None,
    token_file: Annotated[
        Path | None, typer.Option(help="File holding the bearer token callers must send.")
    ] = None,
    docker_url: Annotated[
        str | None, typer.Option(help="The local engine (default unix:///var/run/docker.sock).")
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="Server certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Server key (PEM).")] = None,
    tls_ca: Annotated[
        Path | None, typer.Option(help="CA of client certificates: requires mutual TLS.")
    ] = None,
    bind_allow: Annotated[
        list[Path] | None,
        typer.Option(
            help="A host directory containers may bind-mount from (repeatable; replaces "
            "WEFT_AGENT_BIND_ALLOW). Nothing else is allowed but the agent's data dir."
        ),
    ] = None,
) -> None:
    """Run the host agent (options override WEFT_AGENT_* variables)."""
    from controlplane.agent.main import serve
    from controlplane.agent.settings import AgentSettings

    given: dict[str, object] = {
        "listen": listen,
        "token_file": token_file,
        "docker_url": docker_url,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "tls_ca": tls_ca,
        "bind_allow": bind_allow,
    }
    serve(AgentSettings().model_copy(update={k: v for k, v in given.items() if v is not None}))


@images_app.command("build")
@building
def images_build(
    only: Annotated[list[str] | None, typer.Option(help="Build only these images.")] = None,
    pull: Annotated[
        bool,
        typer.Option(
            envvar="WEFT_PULL",
            help="Pull the default bases from a registry instead of building them offline.",
        ),
    ] = False,
) -> None:
    """Build the base images (offline, cached) and weft's images, tagged with the version."""
    from controlplane.build.images import build_all

    build_all(only=only or None, pull=pull)


@world_app.command("up")
@building
def world_up(
    port: Annotated[int, typer.Option(help="Host port of the search API.")] = 8080,
) -> None:
    """Launch the control plane and a local agent, deploy the world stack through them."""
    from controlplane.launch.local import Site
    from controlplane.launch.world import up

    up(Site(search_port=port))


@world_app.command("down")
@building
def world_down() -> None:
    """Remove the world stack (with its data), the control plane and the local agent."""
    from controlplane.launch.world import down

    down()


@app.command()
def server(
    listen: Annotated[
        str, typer.Option(help="host:port to serve the API on.", envvar="WEFT_LISTEN")
    ] = "127.0.0.1:8000",
    state_dir: Annotated[
        Path | None, typer.Option(help="Where weft.db and admin.token live (WEFT_STATE_DIR).")
    ] = None,
) -> None:
    """Run the control plane (SQLite in the state dir unless DATABASE_URL is set).

    https:// agents: WEFT_AGENTS_CA (their CA), and for mutual TLS WEFT_AGENTS_CERT and
    WEFT_AGENTS_KEY (this control plane's client certificate).
    """
    from controlplane.server.app import serve
    from controlplane.server.settings import Settings

    settings = Settings(state_dir=state_dir) if state_dir else Settings()
    serve(listen, settings)


@db_app.command("upgrade")
def db_upgrade(
    state_dir: Annotated[Path | None, typer.Option(help="The control plane's state dir.")] = None,
) -> None:
    """Apply the control plane's schema migrations (also done on every start)."""
    import asyncio

    from controlplane.server.db import make_engine, upgrade
    from controlplane.server.settings import Settings
    from controlplane.server.statedir import secure_state

    settings = Settings(state_dir=state_dir) if state_dir else Settings()
    secure_state(settings.state_dir, settings.db_url)

    async def run() -> None:
        engine = make_engine(settings.db_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    typer.echo("database at head")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
