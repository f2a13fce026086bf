"""`weft dev cluster up|down|status`: the test cluster on this machine, for people.

The same code as the tests' `cluster` fixture (`controlplane.devcluster`); a
cluster made here has no owning process, so it stays until `down` (or the next
`up` of its name, which replaces it).
"""

from typing import Annotated

import typer

dev_app = typer.Typer(help="Development helpers (run as root).", no_args_is_help=True)
cluster_app = typer.Typer(
    help="Hosts as network namespaces, each with its own dockerd and weft agent.",
    no_args_is_help=True,
)
dev_app.add_typer(cluster_app, name="cluster")

NameOpt = Annotated[
    str, typer.Option("--name", help="Cluster name: 2-10 of [a-z0-9], a letter first.")
]
DEFAULT_NAME = "weftdev"


@cluster_app.command("up")
def up(
    hosts: Annotated[int, typer.Option("--hosts", min=1, max=32, help="How many hosts.")] = 3,
    name: NameOpt = DEFAULT_NAME,
    underlay: Annotated[
        str | None, typer.Option(help="Underlay subnet (default: a free /24 in 10.231/16).")
    ] = None,
    server: Annotated[
        bool, typer.Option(help="Start a control plane and register the hosts with it.")
    ] = True,
    image: Annotated[
        list[str] | None,
        typer.Option(help="Copy this image from the local engine to every host; repeatable."),
    ] = None,
) -> None:
    """Create the cluster (replacing an earlier one of this name) and print where it is."""
    from controlplane.devcluster import cluster

    try:
        c = cluster.up(name, hosts, underlay=underlay, server=server)
    except (ValueError, OSError, TimeoutError) as exc:
        typer.echo(f"weft: {exc}", err=True)
        raise typer.Exit(1) from exc
    for ref in image or []:
        c.load_image(ref)
    if server:
        c.register()
    typer.echo(f"cluster {name}: underlay {c.layout.underlay}, switch namespace {c.layout.switch}")
    for h in c.hosts:
        typer.echo(f"  {h.name}  agent {h.agent_url}  docker -H {h.docker_url}")
    typer.echo(f"agent token: {c.layout.dir / cluster.TOKEN_FILE}")
    if c.server_url:
        typer.echo(f"export WEFT_URL={c.server_url}")
        typer.echo(f"export WEFT_TOKEN_FILE={c.layout.dir / 'cp' / 'admin.token'}")


@cluster_app.command("down")
def down(name: NameOpt = DEFAULT_NAME) -> None:
    """Remove the cluster: processes, namespaces, links, iptables rules, files."""
    from controlplane.devcluster import cluster

    cluster.down(name)
    typer.echo(f"cluster {name} removed")
