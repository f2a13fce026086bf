"""`weft` commands that drive the control plane's API, one typer sub-app per resource."""

import typer


def register(app: typer.Typer) -> None:
    """Add the API's options (--url, --token, --token-file) and sub-commands to `weft`."""
    from controlplane.cli.commands import (
        common,
        containers,
        events,
        hosts,
        links,
        mesh,
        networks,
        stacks,
        tokens,
        tunnels,
        weave,
    )

    app.callback()(common.connect)
    app.add_typer(hosts.app, name="hosts")
    app.add_typer(networks.app, name="networks")
    app.add_typer(containers.app, name="containers")
    app.add_typer(links.app, name="links")
    app.add_typer(events.app, name="events")
    app.add_typer(stacks.app, name="stack")
    app.add_typer(tokens.app, name="tokens")
    app.add_typer(tunnels.app, name="mesh")
    mesh.register(app)
    weave.register(app)
