"""AgentClient against httpx.MockTransport: requests it sends, errors it raises."""

import json

import httpx
import pytest

from controlplane.contract.schemas import ContainerSpec, LinkTarget, NetworkSpec
from controlplane.server.agentclient import (
    AgentAuthError,
    AgentBadAnswer,
    AgentClient,
    AgentConflict,
    AgentError,
    AgentUnavailable,
)

STATE = {
    "name": "web",
    "id": "abc",
    "image": "img",
    "status": "running",
    "running": True,
}


def _problem(status: int, title: str) -> httpx.Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": "d",
        "errors": [{"loc": ["path", "name"], "msg": "m"}],
    }
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


def _agent(handler: httpx.MockTransport, **kw: object) -> AgentClient:
    return AgentClient("http://agent:7946/", "tok", transport=handler, backoff=0.0, **kw)  # type: ignore[arg-type]


async def test_sends_token_and_spec() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"action": "created", "container": STATE})

    async with _agent(httpx.MockTransport(handle)) as agent:
        result = await agent.ensure_container("web", ContainerSpec(image="img", env={"A": "1"}))
    assert result.action == "created" and result.container.name == "web"
    (request,) = seen
    assert request.method == "PUT" and request.url.path == "/v1/containers/web"
    assert request.headers["authorization"] == "Bearer tok"
    assert json.loads(request.content)["env"] == {"A": "1"}


async def test_label_filters_and_image_refs_are_encoded() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.startswith("/v1/images"):
            return _problem(404, "Not found")
        return httpx.Response(200, json=[STATE])

    async with _agent(httpx.MockTransport(handle)) as agent:
        assert [c.name for c in await agent.list_containers({"weft.stack": "s1"})] == ["web"]
        assert await agent.image_exists("weft/agent:0.1.0") is False
    assert seen[0].url.params.get_list("label") == ["weft.stack=s1"]
    assert seen[1].url.raw_path == b"/v1/images/weft%2Fagent%3A0.1.0"


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, AgentAuthError), (403, AgentAuthError), (409, AgentConflict), (502, AgentError)],
)
async def test_errors_carry_the_problem(status: int, cls: type[AgentError]) -> None:
    transport = httpx.MockTransport(lambda _r: _problem(status, "Oops"))
    async with _agent(transport) as agent:
        with pytest.raises(cls) as caught:
            await agent.ensure_network("n", NetworkSpec())
    assert caught.value.status == status
    assert caught.value.problem.title == "Oops"
    assert caught.value.problem.errors[0].loc == ["path", "name"]


async def test_not_found_reads_as_none() -> None:
    transport = httpx.MockTransport(lambda _r: _problem(404, "Not found"))
    async with _agent(transport) as agent:
        assert await agent.get_container("web") is None
        assert await agent.get_network("n") is None


async def test_non_problem_error_body_is_not_echoed() -> None:
    transport = httpx.MockTransport(lambda _r: httpx.Response(500, text="secret boom"))
    async with _agent(transport) as agent:
        with pytest.raises(AgentError) as caught:
            await agent.info()
    assert caught.value.status == 500 and "boom" not in str(caught.value)
    assert caught.value.problem.detail == "not an agent's problem+json (text/plain)"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>secret page</html>"),
        httpx.Response(200, json={"hostname": "secret", "cpus": "many"}),
        httpx.Response(200, json=["secret"]),
    ],
)
async def test_an_answer_of_the_wrong_shape_is_a_bad_answer(answer: httpx.Response) -> None:
    transport = httpx.MockTransport(lambda _r: answer)
    async with _agent(transport) as agent:
        with pytest.raises(AgentBadAnswer) as caught:
            await agent.info()
        with pytest.raises(AgentBadAnswer):
            await agent.list_containers()
    assert caught.value.status == 502 and "secret" not in str(caught.value)


async def test_transport_errors_are_retried_then_unavailable() -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused", request=request)

    async with _agent(httpx.MockTransport(handle), retries=2) as agent:
        with pytest.raises(AgentUnavailable):
            await agent.delete_container("web")
    assert calls == 3


async def test_retry_recovers() -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"name": "web", "links": [], "env": {}, "hosts": []})

    async with _agent(httpx.MockTransport(handle)) as agent:
        state = await agent.set_links("web", [LinkTarget(alias="db", name="db")])
    assert calls == 2 and state.name == "web"
