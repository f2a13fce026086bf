"""Agent tokens sealed at rest; the state dir readable by its owner only (real runuser)."""

import shutil
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from controlplane.server.sealing import SealError, is_sealed, load_box
from tests.harness import PREFIX
from tests.unit.cp_app import control_plane
from tests.unit.cp_fake_agent import TOKEN


def test_a_sealed_token_opens_only_with_its_key(tmp_path):
    box = load_box(tmp_path / "k")
    sealed = box.seal("s3cret")
    assert is_sealed(sealed) and "s3cret" not in sealed
    assert box.seal("s3cret") != sealed  # a fresh IV each time
    assert load_box(tmp_path / "k").open(sealed) == "s3cret"  # same key file, same key
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    with pytest.raises(SealError):
        load_box(tmp_path / "other").open(sealed)
    with pytest.raises(SealError):
        box.open("s3cret")


def test_a_key_file_left_world_readable_is_made_private(tmp_path):
    sealed = load_box(tmp_path / "k").seal("t")
    (tmp_path / "k").chmod(0o644)
    assert load_box(tmp_path / "k").open(sealed) == "t"
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600


@pytest.fixture
def open_parent() -> Iterator[Path]:
    """A world-traversable directory (pytest's tmp_path is 0700, which would hide everything)."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-state-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run argv as the unprivileged user nobody."""
    cmd = ["runuser", "-u", "nobody", "--", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def test_no_other_local_user_can_read_a_token(open_parent):
    state = open_parent / "state"
    with control_plane(state) as cp:
        cp.add_host("h1")
        files = [
            cp.settings.admin_token_file,
            cp.settings.agent_token_key,
            state / "weft.db",
            state / "weft.db-wal",
        ]
        # What would let this test pass for the wrong reason: nobody can read here at all.
        canary = open_parent / "canary"
        canary.write_text("readable\n")
        canary.chmod(0o644)
        assert as_nobody("cat", str(canary)).stdout == "readable\n"

        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            denied = as_nobody("cat", str(path))
            assert denied.returncode != 0 and "Permission denied" in denied.stderr, path
        assert as_nobody("ls", str(state)).returncode != 0
        # And the database itself holds no agent token an owner could copy out.
        stored = b"".join(p.read_bytes() for p in (state / "weft.db", state / "weft.db-wal"))
        assert TOKEN.encode() not in stored
        assert b"fernet:" in stored


def test_an_old_state_dir_is_tightened_and_its_plaintext_tokens_sealed(tmp_path):
    state = tmp_path / "state"
    with control_plane(state) as cp:
        host_id, agent = cp.add_host("h1")
    # As a database from before sealing left it: a plaintext token, loose modes.
    db = sqlite3.connect(state / "weft.db")
    db.execute("UPDATE hosts SET agent_token = ? WHERE id = ?", (TOKEN, host_id))
    db.commit()
    db.close()
    state.chmod(0o755)
    (state / "weft.db").chmod(0o644)
    with control_plane(state) as cp:
        agent = cp.agents.add("h1")
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        assert stat.S_IMODE((state / "weft.db").stat().st_mode) == 0o600
        db = sqlite3.connect(state / "weft.db")
        (stored,) = db.execute("SELECT agent_token FROM hosts WHERE id = ?", (host_id,)).fetchone()
        db.close()
        assert is_sealed(stored)
        assert load_box(cp.settings.agent_token_key).open(stored) == TOKEN
        # The sealed token still reaches the agent: a write converges.
        r = cp.client.post(
            "/networks?wait=true",
            json={"name": "n1", "host_id": host_id, "subnet": "10.9.0.0/24"},
        )
        assert r.status_code in (200, 201), r.text
        assert r.json()["status"] == "converged", r.text
        assert ("GET", "/v1/info") in agent.calls
