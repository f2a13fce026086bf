"""Images on hosts: a service's image reaches every host it is placed on.

No registry answers here (nor at many air-gapped sites), so an image a host lacks
is copied from a ready host that has it: the source agent streams `docker save`
through the control plane into the target agent's `docker load`. The image keeps
its id, so every host runs the same bytes under the same reference.
"""

from collections.abc import Iterable

from controlplane.contract.apitypes import HostStatus
from controlplane.contract.schemas import ImageInfo
from controlplane.server.agentclient import AgentClientError
from controlplane.server.models import Host
from controlplane.server.services.errors import HostUnavailable, Invalid
from controlplane.server.services.runtime import Runtime


async def image_on(rt: Runtime, host: Host, ref: str) -> ImageInfo | None:
    """The image as `host` has it, or None."""
    try:
        async with rt.agents(host.agent_url, host.agent_token) as agent:
            return await agent.get_image(ref)
    except AgentClientError as exc:
        raise HostUnavailable(f"host {host.name}: {exc}") from None


async def ensure_image(rt: Runtime, target: Host, ref: str, sources: Iterable[Host]) -> ImageInfo:
    """The image on `target`; copied from the first ready host of `sources` having it.

    Invalid when no ready host has it (it must be built or loaded somewhere first);
    HostUnavailable when the target's agent does not answer.
    """
    found = await image_on(rt, target, ref)
    if found is not None:
        return found
    tried = []
    for source in sources:
        if source.id == target.id or source.status != HostStatus.ready:
            continue
        try:
            info = await _copy(rt, source, target, ref)
        except AgentClientError as exc:
            tried.append(f"{source.name}: {exc}")
            continue
        if info is not None:
            return info
    reasons = f" (copies failed: {'; '.join(tried)})" if tried else ""
    raise Invalid(
        f"image {ref} is on no ready host, so it cannot reach {target.name}: "
        f"build or load it on one{reasons}",
        ["image"],
    )


async def _copy(rt: Runtime, source: Host, target: Host, ref: str) -> ImageInfo | None:
    """Stream `ref` from source to target; None when the source lacks it."""
    async with rt.agents(source.agent_url, source.agent_token) as src:
        info = await src.get_image(ref)
        if info is None:
            return None
        async with (
            src.save_image(ref) as chunks,
            rt.agents(target.agent_url, target.agent_token) as dst,
        ):
            await dst.load_image(chunks)
            landed = await dst.get_image(ref)
    if landed is None or landed.id != info.id:
        raise AgentClientError(f"{ref} did not arrive on {target.name} as {info.id[:19]}")
    return landed
