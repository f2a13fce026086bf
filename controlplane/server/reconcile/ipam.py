"""Central IPAM for overlay networks (pure): subnets from a pool, per-host ranges, addresses.

The failure this module exists to prevent: one address handed to two containers
on different hosts of one overlay (they share an L2 segment, so both would
answer ARP and each would get half the traffic). The rules that prevent it:

- a network's subnet is cut into aligned blocks (e.g. /24s of a /16); a block
  belongs to at most one host, and a host only hands out addresses of its own
  blocks, so two hosts can never pick the same address even without talking;
- a host gets another block when it needs more addresses (grown on demand) and
  keeps its blocks while it is on the network; when it leaves (removed or
  forgotten) all its blocks go back to the pool at once;
- within a host, an address is handed out only when no live container holds
  it; the subnet's network and broadcast addresses and each host's gateway (the
  first usable address of its first block) are never handed out.
"""

import ipaddress
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_POOL = "10.32.0.0/12"
DEFAULT_SUBNET_PREFIX = 16
DEFAULT_BLOCK_PREFIX = 24


class IpamError(ValueError):
    """The request cannot be met: the pool or the subnet is full, or a subnet overlaps."""


def _net(cidr: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(cidr, strict=True)


def overlapping(subnet: str, taken: Collection[str]) -> list[str]:
    """The subnets of `taken` that overlap `subnet` (an overlap is a 409 for the API)."""
    net = _net(subnet)
    return sorted(t for t in taken if net.overlaps(_net(t)))


def pick_subnet(pool: str, prefixlen: int, taken: Collection[str]) -> str:
    """The first subnet of `prefixlen` in `pool` that overlaps nothing in `taken`."""
    space = _net(pool)
    if prefixlen < space.prefixlen:
        raise IpamError(f"a /{prefixlen} does not fit in the pool {pool}")
    used = [_net(t) for t in taken]
    for candidate in space.subnets(new_prefix=prefixlen):
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise IpamError(f"the pool {pool} has no free /{prefixlen} left")


def _blocks(subnet: str, block_prefixlen: int) -> Iterator[ipaddress.IPv4Network]:
    net = _net(subnet)
    if block_prefixlen < net.prefixlen:
        raise IpamError(f"blocks of /{block_prefixlen} do not fit in {subnet}")
    return net.subnets(new_prefix=block_prefixlen)


def _usable(subnet: ipaddress.IPv4Network, block: ipaddress.IPv4Network) -> Iterator[str]:
    """The block's addresses minus the subnet's network and broadcast addresses."""
    for addr in block:
        if addr not in (subnet.network_address, subnet.broadcast_address):
            yield str(addr)


def gateway(subnet: str, blocks: Sequence[str]) -> str:
    """A host's gateway on the overlay: the first usable address of its first block."""
    if not blocks:
        raise IpamError("a host without a range has no gateway")
    return next(_usable(_net(subnet), _net(blocks[0])))


def capacity(subnet: str, blocks: Sequence[str]) -> int:
    """How many container addresses the blocks hold (the gateway excluded)."""
    net = _net(subnet)
    total = sum(sum(1 for _ in _usable(net, _net(b))) for b in blocks)
    return max(total - 1, 0) if blocks else 0


@dataclass(frozen=True)
class RangePlan:
    """Every host's blocks after planning, and what changed."""

    ranges: dict[str, list[str]]
    added: dict[str, list[str]] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)


def plan_ranges(
    subnet: str,
    block_prefixlen: int,
    current: Mapping[str, Sequence[str]],
    demand: Mapping[str, int],
) -> RangePlan:
    """Blocks per host so that each host in `demand` holds at least that many addresses.

    Hosts keep the blocks they have; a host missing from `demand` is off the
    network and all its blocks are released. Blocks are handed out lowest first.
    Raises `IpamError` (naming the host) when the subnet has no free block left.
    """
    net = _net(subnet)
    ranges = {h: list(b) for h, b in current.items() if h in demand}
    released = sorted(
        (b for h, bs in current.items() if h not in demand for b in bs),
        key=lambda b: _net(b).network_address,
    )
    held = {_net(b) for bs in ranges.values() for b in bs}
    for b in held:
        if not b.subnet_of(net) or b.prefixlen != block_prefixlen:
            raise IpamError(f"block {b} is not a /{block_prefixlen} of {subnet}")
    free = (b for b in _blocks(subnet, block_prefixlen) if b not in held)
    added: dict[str, list[str]] = {}
    for host in sorted(demand):
        blocks = ranges.setdefault(host, [])
        while not blocks or capacity(subnet, blocks) < demand[host]:
            block = next(free, None)
            if block is None:
                raise IpamError(
                    f"subnet {subnet} has no free /{block_prefixlen} left for host {host}"
                )
            blocks.append(str(block))
            added.setdefault(host, []).append(str(block))
    return RangePlan(ranges=ranges, added=added, released=released)


def allocate(subnet: str, blocks: Sequence[str], used: Collection[str]) -> str:
    """The lowest address of the host's blocks that is neither used nor its gateway."""
    net = _net(subnet)
    reserved = set(used) | {gateway(subnet, blocks)}
    for block in blocks:
        for addr in _usable(net, _net(block)):
            if addr not in reserved:
                return addr
    raise IpamError(f"the range {', '.join(blocks)} of {subnet} is full")
