"""/metrics of the control plane (fake agents) and of the agent: what an operator watches."""

import docker
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from controlplane.agent.app import create_app as create_agent
from controlplane.agent.settings import AgentSettings
from tests.eventually import eventually
from tests.unit.cp_app import control_plane


def scrape(client: TestClient, headers: dict[str, str] | None = None) -> dict[tuple, float]:
    """Every sample as {(name, sorted labels): value}."""
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: dict[tuple, float], name: str, **labels: str) -> float:
    """The sample's value; NaN when absent (equal to nothing, so assertions fail)."""
    return samples.get((name, tuple(sorted(labels.items()))), float("nan"))


def test_requests_are_counted_by_route_template_and_status(tmp_path):
    with control_plane(tmp_path) as cp:
        host_id, _ = cp.add_host("h1")
        for _ in range(3):
            assert cp.client.get(f"/hosts/{host_id}").status_code == 200
        assert cp.client.get("/hosts/999").status_code == 404
        assert cp.client.get("/nowhere").status_code == 404
        m = scrape(cp.client)
        route = "/hosts/{host_id}"
        total = "weft_server_http_requests_total"
        assert value(m, total, method="GET", route=route, status="200") == 3
        assert value(m, total, method="GET", route=route, status="404") == 1
        assert value(m, total, method="POST", route="/hosts", status="201") == 1
        assert value(m, total, method="GET", route="<unmatched>", status="404") == 1
        assert not any("/hosts/1" in dict(labels).get("route", "") for _, labels in m)


def test_reconcilers_resources_hosts_and_events(tmp_path):
    with control_plane(tmp_path) as cp:
        host_id, agent = cp.add_host("h1")
        r = cp.client.post(
            "/networks?wait=true", json={"name": "n1", "host_id": host_id, "subnet": "10.7.0.0/24"}
        )
        assert r.json()["status"] == "converged", r.text
        m = scrape(cp.client)
        assert value(m, "weft_server_resources", kind="network", status="converged") == 1
        assert value(m, "weft_server_hosts", status="ready") == 1
        assert value(m, "weft_server_reconcile_passes_total", host_id=str(host_id)) >= 1
        assert value(m, "weft_server_reconcile_backoff_seconds", host_id=str(host_id)) == 0
        newest = max(e["id"] for e in cp.client.get("/events", params={"limit": 1000}).json())
        assert value(m, "weft_server_events_written_total") == newest
        # The agent goes away: failures count up, the backoff shows, the host turns unreachable.
        agent.down = True

        def failing() -> dict[tuple, float]:
            m = scrape(cp.client)
            failed = value(m, "weft_server_reconcile_failures_total", host_id=str(host_id))
            return m if failed >= 2 else {}

        m = eventually(failing, timeout=20)
        assert value(m, "weft_server_reconcile_backoff_seconds", host_id=str(host_id)) > 0
        assert value(m, "weft_server_hosts", status="unreachable") == 1
        agent.down = False
        eventually(
            lambda: (
                value(
                    scrape(cp.client), "weft_server_reconcile_backoff_seconds", host_id=str(host_id)
                )
                == 0
            ),
            timeout=20,
        )


def test_event_stream_subscribers_are_counted(tmp_path):
    with control_plane(tmp_path) as cp:
        assert value(scrape(cp.client), "weft_server_event_stream_subscribers") == 0
        with cp.client.stream("GET", "/events/stream") as stream:
            assert stream.status_code == 200
            eventually(
                lambda: value(scrape(cp.client), "weft_server_event_stream_subscribers") == 1,
                timeout=10,
            )
        eventually(
            lambda: value(scrape(cp.client), "weft_server_event_stream_subscribers") == 0,
            timeout=10,
        )


def test_metrics_need_a_token_and_a_reader_may_scrape(tmp_path):
    with control_plane(tmp_path) as cp:
        assert cp.client.get("/metrics", headers={"Authorization": ""}).status_code == 401
        reader = cp.client.post("/tokens", json={"name": "prom", "role": "reader"}).json()
        scrape(cp.client, {"Authorization": f"Bearer {reader['token']}"})


def test_agent_metrics_sit_behind_its_token(tmp_path):
    (tmp_path / "token").write_text("agent-tok")
    settings = AgentSettings(token_file=tmp_path / "token", watch_events=False)
    # These routes make no engine call: an engine that is not there does not matter.
    engine = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    app = create_agent(settings, engine=engine)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        auth = {"Authorization": "Bearer agent-tok"}
        assert client.get("/v1/containers/x%20y", headers=auth).status_code == 422
        m = scrape(client, auth)
        route = "/v1/containers/{name}"
        total = "weft_agent_http_requests_total"
        assert value(m, total, method="GET", route=route, status="422") == 1
        assert value(m, total, method="GET", route="/metrics", status="401") == 1
