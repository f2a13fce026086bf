"""How the responder answers one query from its records (no sockets here).

Names inside the domain are answered authoritatively: A records for every
address of the name, shuffled per answer (a service's replicas share the load),
with the set's short TTL; a name without a record is NXDOMAIN, another type for
a known name is an empty NOERROR. Names outside the domain are not ours: the
server forwards them to the host's resolvers.
"""

import random
from dataclasses import dataclass, field

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from controlplane.contract.dns import DEFAULT_DOMAIN, DEFAULT_TTL, DnsRecordSet


@dataclass(frozen=True)
class Zone:
    """An immutable snapshot of the records (swapped whole, never edited in place)."""

    domain: str = DEFAULT_DOMAIN
    ttl: int = DEFAULT_TTL
    records: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, rs: DnsRecordSet) -> "Zone":
        """The zone a record set describes."""
        return cls(rs.domain, rs.ttl, {r.name: tuple(r.addresses) for r in rs.records})

    def owns(self, qname: str) -> bool:
        """Whether the name is inside the domain."""
        name = qname.rstrip(".").lower()
        return name == self.domain or name.endswith("." + self.domain)


def answer(zone: Zone, request: DNSRecord) -> DNSRecord | None:
    """The reply to `request`, or None when its name is outside the domain (forward it)."""
    qname = str(request.q.qname)
    if not zone.owns(qname):
        return None
    reply = request.reply(ra=1, aa=1)
    name = qname.rstrip(".").lower()
    relative = name[: -len(zone.domain) - 1] if name != zone.domain else ""
    addresses = zone.records.get(relative)
    if addresses is None:
        reply.header.rcode = RCODE.NXDOMAIN
        return reply
    if request.q.qtype in (QTYPE.A, QTYPE.ANY):
        for addr in random.sample(addresses, len(addresses)):
            reply.add_answer(RR(qname, QTYPE.A, rdata=A(addr), ttl=zone.ttl))
    return reply


def servfail(request: DNSRecord) -> DNSRecord:
    """The reply when no upstream resolver answered."""
    reply = request.reply(ra=1, aa=0)
    reply.header.rcode = RCODE.SERVFAIL
    return reply
