"""/tokens and `weft tokens`: reader tokens made through the API, listed, revoked."""

import httpx
from typer.testing import CliRunner

from controlplane.cli.commands.common import Connection
from controlplane.cli.main import app
from tests.unit.cp_app import CP, control_plane

CLEAN_ENV = {"WEFT_URL": None, "WEFT_TOKEN": None, "WEFT_TOKEN_FILE": None}


def as_(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_reader_token_reads_and_may_not_write(tmp_path):
    with control_plane(tmp_path) as cp:
        r = cp.client.post("/tokens", json={"name": "ro", "role": "reader"})
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["role"] == "reader" and len(made["token"]) >= 32
        reader = as_(made["token"])
        assert cp.client.get("/hosts", headers=reader).status_code == 200
        assert cp.client.get("/tokens", headers=reader).status_code == 200
        denied = cp.client.post("/tokens", headers=reader, json={"name": "x"})
        assert denied.status_code == 403
        assert denied.headers["content-type"] == "application/problem+json"
        listed = cp.client.get("/tokens").json()
        assert [(t["name"], t["role"]) for t in listed] == [("admin", "admin"), ("ro", "reader")]
        assert all("token" not in t and "token_sha256" not in t for t in listed)
        # Revoked: refused at once.
        assert cp.client.delete(f"/tokens/{made['id']}").status_code == 204
        assert cp.client.get("/hosts", headers=reader).status_code == 401


def test_bad_token_requests_name_the_field_and_change_nothing(tmp_path):
    with control_plane(tmp_path) as cp:
        for body, loc in (
            ({"name": "x", "role": "root"}, ["body", "role"]),
            ({"name": "no spaces"}, ["body", "name"]),
        ):
            r = cp.client.post("/tokens", json=body)
            assert r.status_code == 422 and r.json()["errors"][0]["loc"] == loc, r.text
        assert cp.client.post("/tokens", json={"name": "ro"}).status_code == 201
        again = cp.client.post("/tokens", json={"name": "ro"})
        assert again.status_code == 409
        assert again.json()["errors"][0]["loc"] == ["body", "name"]
        assert [t["name"] for t in cp.client.get("/tokens").json()] == ["admin", "ro"]
        # The last admin token stays: the API never locks its admins out.
        (admin,) = [t for t in cp.client.get("/tokens").json() if t["role"] == "admin"]
        assert cp.client.delete(f"/tokens/{admin['id']}").status_code == 409
        assert cp.client.get("/hosts").status_code == 200
        assert cp.client.delete("/tokens/999").status_code == 404


def weft(cp: CP, *args: str):
    """`weft ARGS` against the real app in-process (its TestClient behind a transport)."""
    conn = Connection(token=cp.token, transport=httpx.MockTransport(cp.client.send))
    return CliRunner().invoke(app, list(args), obj=conn, env=CLEAN_ENV)


def test_weft_tokens_create_reader_ls_rm(tmp_path):
    with control_plane(tmp_path) as cp:
        made = weft(cp, "tokens", "create", "dash", "--role", "reader")
        assert made.exit_code == 0, made.output
        secret = made.stdout.strip()
        assert cp.client.get("/containers", headers=as_(secret)).status_code == 200
        assert cp.client.delete("/containers/1", headers=as_(secret)).status_code == 403
        listing = weft(cp, "tokens", "ls")
        assert listing.exit_code == 0 and "dash" in listing.stdout and "reader" in listing.stdout
        assert secret not in listing.stdout
        bad = weft(cp, "tokens", "create", "x", "--role", "root")
        assert bad.exit_code == 2
        assert weft(cp, "tokens", "rm", "dash").exit_code == 0
        assert cp.client.get("/containers", headers=as_(secret)).status_code == 401
        assert weft(cp, "tokens", "rm", "admin").exit_code == 1  # the last admin token
