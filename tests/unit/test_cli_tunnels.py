"""`weft mesh show|password|rotate` against a MockTransport control plane."""

import json

import httpx
from typer.testing import CliRunner

from controlplane.cli.commands.common import Connection
from controlplane.cli.main import app
from tests.unit.test_cli_commands import CLEAN_ENV, FakeControlPlane, cp, weft  # noqa: F401

MESH = {
    "tunnel_network": "100.96.0.0/16",
    "password_set": True,
    "psk_fingerprint": "0123456789abcdef",
    "hosts": [
        {
            "host_id": 1,
            "name": "h1",
            "interface": "weftwgabc",
            "tunnel_address": "100.96.0.1",
            "public_key": "K1",
        },
        {
            "host_id": 2,
            "name": "h2",
            "interface": "weftwgdef",
            "tunnel_address": "100.96.0.2",
            "public_key": None,
        },
    ],
}


def test_password_from_stdin_never_on_the_command_line_and_rotate(
    cp: FakeControlPlane,  # noqa: F811
) -> None:
    cp.route("PUT", "/mesh/password", MESH)
    conn = Connection(transport=httpx.MockTransport(cp))
    result = CliRunner().invoke(
        app, ["mesh", "password", "--stdin"], input="s3cret pass\n", obj=conn, env=CLEAN_ENV
    )
    assert result.exit_code == 0, result.output
    assert json.loads(cp.sent("PUT", "/mesh/password").content) == {"password": "s3cret pass"}
    assert "s3cret" not in result.output and "0123456789abcdef" in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("h2")).split()
    assert row == ["h2", "weftwgdef", "100.96.0.2", "-"]

    cp.route("POST", "/mesh/rotate", MESH)
    result = weft(cp, "mesh", "rotate", "--json")
    assert result.exit_code == 0 and json.loads(result.output) == MESH
    cp.route("DELETE", "/mesh/password", 204)
    cp.route("GET", "/mesh", {**MESH, "password_set": False, "psk_fingerprint": None})
    result = weft(cp, "mesh", "password", "--clear")
    assert result.exit_code == 0 and "pre-shared key: none" in result.output
