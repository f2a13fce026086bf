"""What a container spec may ask of this host: no path from an agent token to root.

The wire schema (`ContainerSpec`, extra fields forbidden) has no privileged mode,
added capabilities, host pid or user namespace, or devices: a spec naming them is
refused as invalid before it gets here. What remains is the mounts: a bind mount
of `/`, `/etc` or the Docker socket is root on the host, so a bind source must lie
under a directory the host's operator allowed (`WEFT_AGENT_BIND_ALLOW`) or the
agent's own data dir, and never over the agent's token or the engine's socket.
Symlinks are resolved first: the engine follows them too.
"""

import os
from collections.abc import Iterable
from pathlib import Path

from controlplane.agent.errors import NotPermitted
from controlplane.agent.settings import AgentSettings
from controlplane.contract.schemas import ContainerSpec


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _under(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def allowed_roots(settings: AgentSettings) -> list[Path]:
    """The host directories bind mounts may come from."""
    return [_real(p) for p in (settings.data_dir, *settings.bind_allow)]


def protected(settings: AgentSettings) -> list[Path]:
    """Host files no bind may expose, even inside an allowed directory."""
    paths = [_real(settings.token_file)]
    if settings.docker_url.startswith("unix://"):
        paths.append(_real(Path(settings.docker_url.removeprefix("unix://"))))
    return paths


def check_spec(spec: ContainerSpec, settings: AgentSettings) -> None:
    """Raise NotPermitted (naming the mount) unless every mount is one this host allows."""
    roots, guarded = allowed_roots(settings), protected(settings)
    for i, mount in enumerate(spec.mounts):
        loc: list[str | int] = ["body", "mounts", i, "source"]
        if mount.type == "volume" and "/" in mount.source:
            raise NotPermitted(f"volume {mount.source!r} is a path: a volume has a name", loc)
        if mount.type != "bind":
            continue
        if not os.path.isabs(mount.source):
            raise NotPermitted(f"bind source {mount.source!r} is not an absolute path", loc)
        source = _real(Path(mount.source))
        if not _under(source, roots):
            allowed = ", ".join(str(r) for r in roots)
            raise NotPermitted(
                f"bind mount of {mount.source} is not allowed on this host "
                f"(allowed: {allowed}; WEFT_AGENT_BIND_ALLOW adds directories)",
                loc,
            )
        if any(g == source or source in g.parents for g in guarded):
            raise NotPermitted(
                f"bind mount of {mount.source} would expose the agent's token or the Docker socket",
                loc,
            )
