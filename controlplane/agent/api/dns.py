"""DNS: the `*.weave.local` records this host serves (see `controlplane.contract.dns`)."""

from fastapi import APIRouter, Request

from controlplane.agent.api.deps import blocking
from controlplane.agent.dns.server import DnsServer
from controlplane.agent.errors import Conflict
from controlplane.contract.dns import DnsRecordSet, DnsState

router = APIRouter(prefix="/v1/dns", tags=["dns"])


def _server(request: Request) -> DnsServer:
    server: DnsServer | None = request.app.state.dns
    if server is None:
        raise Conflict("this agent runs no DNS responder (set WEFT_AGENT_DNS_LISTEN)")
    return server


@router.put("", response_model=DnsState)
async def set_records(body: DnsRecordSet, request: Request) -> DnsState:
    """Replace the whole record set; answered from the next query on."""
    return await blocking(_server(request).set_records, body)


@router.get("", response_model=DnsState)
async def get_records(request: Request) -> DnsState:
    """The record set served, the listening sockets and the upstream resolvers."""
    return _server(request).state()
