"""One scenario of the weave verbs through `AgentClient`, run against the fake agent (unit)
and against a real agent on the test cluster (e2e), so the fake stays in step with the agent.

It needs an overlay `overlay` on subnet `subnet` (a /16) and a running weft container
`container` that is not on it; it leaves both as it found them.
"""

import ipaddress

import pytest

from controlplane.contract.weave import AttachSpec
from controlplane.server.agentclient import AgentClient, AgentError


async def run(agent: AgentClient, overlay: str, subnet: str, container: str) -> None:
    """Attach, re-attach, ps, a refused attach, detach, expose, hide: as the agent answers."""
    net = ipaddress.IPv4Network(subnet)
    address, exposed = str(net.network_address + 2305), str(net.network_address + 51201)
    prefix = net.prefixlen

    spec = AttachSpec(ipv4_address=address, aliases=["srv"])
    first = await agent.attach_container(overlay, container, spec)
    assert first.action == "attached"
    ep = first.endpoint
    assert (ep.address, ep.aliases, ep.kind, ep.name) == (
        f"{address}/{prefix}",
        ["srv"],
        "container",
        container,
    )
    assert ep.mac_address
    assert (await agent.attach_container(overlay, container, spec)).action == "unchanged"
    more = AttachSpec(ipv4_address=address, aliases=["srv", "www"])
    again = await agent.attach_container(overlay, container, more)
    assert again.action == "reattached" and again.endpoint.aliases == ["srv", "www"]
    listed = [e for e in await agent.ps(overlay) if e.kind == "container"]
    assert [(e.name, e.address) for e in listed if e.name == container] == [
        (container, f"{address}/{prefix}")
    ]

    outside = AttachSpec(ipv4_address=str(net.broadcast_address + 1))
    with pytest.raises(AgentError) as refused:
        await agent.attach_container(overlay, container, outside)
    assert refused.value.status == 422
    assert refused.value.problem.errors[0].loc == ["body", "ipv4_address"]

    await agent.detach_container(overlay, container)
    await agent.detach_container(overlay, container)  # not on it: fine
    assert all(e.name != container for e in await agent.ps(overlay))

    shown = await agent.expose(overlay, exposed)
    assert (shown.action, shown.addresses) == ("exposed", [f"{exposed}/{prefix}"])
    assert (await agent.expose(overlay, exposed)).action == "unchanged"
    hosts = [e for e in await agent.ps(overlay) if e.kind == "host"]
    assert [e.address for e in hosts] == [f"{exposed}/{prefix}"]
    await agent.hide(overlay, exposed)
    await agent.hide(overlay, exposed)  # not held: fine
    assert all(e.kind != "host" for e in await agent.ps(overlay))
