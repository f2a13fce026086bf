"""A control plane on a temporary state dir, driving fake agents (test helper)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from controlplane.server.app import create_app
from controlplane.server.settings import Settings
from tests.unit.cp_fake_agent import TOKEN, Agents, FakeAgent


@dataclass
class CP:
    """The client (admin token set), the fake hosts and the settings."""

    client: TestClient
    agents: Agents
    settings: Settings
    token: str

    def add_host(self, name: str = "h1") -> tuple[int, FakeAgent]:
        """Register a fake host; returns its id and its agent."""
        agent = self.agents.add(name)
        r = self.client.post(
            "/hosts", json={"name": name, "agent_url": f"http://{name}:7000", "agent_token": TOKEN}
        )
        assert r.status_code == 201, r.text
        return r.json()["id"], agent


def fast_settings(state_dir: Path, database_url: str | None = None) -> Settings:
    """Settings with short intervals so tests converge in well under a second."""
    return Settings(
        state_dir=state_dir,
        reconcile_interval=0.3,
        backoff_initial=0.05,
        backoff_max=0.2,
        wait_timeout=5.0,
        stack_wait_timeout=30.0,  # a deploy that never ends fails the test, not hangs it
        agent_timeout=2.0,
        database_url=database_url,
    )


@contextmanager
def control_plane(
    state_dir: Path, database_url: str | None = None, agents: Agents | None = None
) -> Iterator[CP]:
    """Start the app (migrations, admin token, reconcilers) and stop it afterwards.

    `agents`: the fake hosts of an earlier run, still up (a restart of the control plane).
    """
    agents = agents or Agents()
    settings = fast_settings(state_dir, database_url)
    with TestClient(create_app(settings, agents.transport())) as client:
        token = settings.admin_token_file.read_text().strip()
        client.headers["Authorization"] = f"Bearer {token}"
        yield CP(client, agents, settings, token)
