"""Pure rendering of a container's links: Docker-compatible env vars, hosts block, files.

No I/O here: the driver writes what these functions return. The control plane
may import `link_env` to show the variables a link produces.
"""

import json
import re
import shlex

from controlplane.contract.schemas import LinkTarget

HOSTS_BEGIN = "# weft links begin (managed by weft-agent; do not edit)"
HOSTS_END = "# weft links end"
ENV_PATH = "/etc/weft/links.env"
JSON_PATH = "/etc/weft/links.json"
WRAPPER_PATH = "/etc/weft/with-links"
PROFILE_PATH = "/etc/profile.d/weft-links.sh"

PROFILE_SCRIPT = f"""# weft: current link variables for login shells (see {ENV_PATH}).
if [ -r {ENV_PATH} ]; then
  set -a
  . {ENV_PATH}
  set +a
fi
"""

WRAPPER_SCRIPT = f"""#!/bin/sh
# weft: run a command with the current link variables from {ENV_PATH}.
if [ -r {ENV_PATH} ]; then
  set -a
  . {ENV_PATH}
  set +a
fi
exec "$@"
"""


def env_prefix(alias: str) -> str:
    """The env var prefix Docker derives from a link alias: upper case, [^A-Z0-9] → _."""
    return re.sub(r"[^A-Z0-9_]", "_", alias.upper())


def link_env(from_name: str, links: list[LinkTarget]) -> dict[str, str]:
    """The variables `docker run --link name:alias` would set, for targets with an address."""
    env: dict[str, str] = {}
    for link in links:
        if link.address is None:
            continue
        p = env_prefix(link.alias)
        env[f"{p}_NAME"] = f"/{from_name}/{link.alias}"
        ports = sorted(link.ports, key=lambda s: (s.port, s.protocol))
        host = f"[{link.address}]" if ":" in link.address else link.address
        for i, port in enumerate(ports):
            url = f"{port.protocol}://{host}:{port.port}"
            if i == 0:
                env[f"{p}_PORT"] = url
            base = f"{p}_PORT_{port.port}_{port.protocol.upper()}"
            env[base] = url
            env[f"{base}_ADDR"] = link.address
            env[f"{base}_PORT"] = str(port.port)
            env[f"{base}_PROTO"] = port.protocol
    return env


def hosts_lines(links: list[LinkTarget]) -> list[str]:
    """The hosts entries weft owns: `address<TAB>alias` per target with an address."""
    return [f"{link.address}\t{link.alias}" for link in links if link.address is not None]


def merge_hosts(current: str, lines: list[str]) -> str:
    """`current` hosts text with weft's block replaced by `lines` (Docker's entries kept)."""
    kept: list[str] = []
    inside = False
    for line in current.splitlines():
        if line == HOSTS_BEGIN:
            inside = True
        elif line == HOSTS_END and inside:
            inside = False
        elif not inside:
            kept.append(line)
    if lines:
        kept += [HOSTS_BEGIN, *lines, HOSTS_END]
    return "\n".join(kept) + "\n"


def owned_hosts_lines(current: str) -> list[str]:
    """The lines inside weft's block of a hosts file."""
    out: list[str] = []
    inside = False
    for line in current.splitlines():
        if line == HOSTS_BEGIN:
            inside = True
        elif line == HOSTS_END:
            inside = False
        elif inside:
            out.append(line)
    return out


def render_env_file(env: dict[str, str]) -> str:
    """links.env: `KEY='value'` lines, safe to source from sh."""
    header = "# weft: current link variables (rewritten when a link target moves)\n"
    return header + "".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(env.items()))


def render_links_json(links: list[LinkTarget]) -> str:
    """links.json: the link set itself, read back when the container restarts."""
    return json.dumps([link.model_dump(mode="json") for link in links], indent=1) + "\n"


def parse_links_json(text: str) -> list[LinkTarget]:
    """Inverse of `render_links_json`."""
    return [LinkTarget.model_validate(item) for item in json.loads(text)]
