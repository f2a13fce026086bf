"""The `*.weave.local` records (pure): overlay endpoints in, one record set out.

Every host gets the same set: the whole mesh's names, so a name resolves the same
everywhere. A container is found by its name and its hostname; a service name or
an alias shared by several containers returns all of them. Only containers that
run and have an address on an overlay are listed: a stopped one drops out of
its service's answer at the next push instead of being handed out dead.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from controlplane.contract.dns import DEFAULT_DOMAIN, DEFAULT_TTL, DnsRecord, DnsRecordSet


@dataclass(frozen=True)
class OverlayEndpoint:
    """A container's place on one overlay network."""

    container: str
    address: str | None
    running: bool
    hostname: str | None = None
    service: str | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)


def _names(ep: OverlayEndpoint) -> set[str]:
    names = {ep.container, *ep.aliases}
    for extra in (ep.hostname, ep.service):
        if extra:
            names.add(extra)
    return {n.lower().removesuffix("." + DEFAULT_DOMAIN) for n in names}


def records(
    endpoints: Iterable[OverlayEndpoint], domain: str = DEFAULT_DOMAIN, ttl: int = DEFAULT_TTL
) -> DnsRecordSet:
    """The record set for the endpoints: name -> every live address, sorted, no repeats."""
    table: dict[str, set[str]] = {}
    for ep in endpoints:
        if not ep.running or not ep.address:
            continue
        for name in _names(ep):
            table.setdefault(name, set()).add(ep.address)
    return DnsRecordSet(
        domain=domain,
        ttl=ttl,
        records=[DnsRecord(name=n, addresses=sorted(a)) for n, a in sorted(table.items())],
    )
