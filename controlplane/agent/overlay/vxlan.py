"""The kernel's VXLAN device of an overlay, programmed through netlink (pyroute2).

Netlink errors become the agent's `DriverError` here, and only here. Every
function is idempotent: a device that is already as asked is left untouched.
"""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from controlplane.agent.errors import Conflict, DriverError, Invalid

ZERO_MAC = "00:00:00:00:00:00"


@contextmanager
def translate(what: str) -> Iterator[None]:
    """Turn netlink errors inside the block into the agent's own."""
    try:
        yield
    except NetlinkError as exc:
        raise DriverError(f"{what}: {exc}") from exc


@dataclass(frozen=True)
class Vxlan:
    """What the kernel says about a VXLAN device."""

    name: str
    vni: int
    local: str | None
    port: int
    mtu: int
    master: str | None
    up: bool


@dataclass(frozen=True)
class Underlay:
    """The device that holds the VTEP's source address, and its MTU."""

    name: str
    mtu: int


def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None


def underlay(local: str) -> Underlay:
    """The device holding `local` (the VTEP source must be one of this host's addresses)."""
    with IPRoute() as ipr, translate(f"find the device of {local}"):
        addrs = ipr.get_addr(address=local)
        if not addrs:
            raise Invalid(f"{local} is not an address of this host", ["body", "local"])
        link = ipr.get_links(addrs[0]["index"])[0]
        return Underlay(str(link.get_attr("IFLA_IFNAME")), int(link.get_attr("IFLA_MTU")))


def get(name: str) -> Vxlan | None:
    """The VXLAN device `name`, or None; a non-VXLAN device of that name is a Conflict."""
    with IPRoute() as ipr, translate(f"inspect {name}"):
        idx = _index(ipr, name)
        if idx is None:
            return None
        link = ipr.get_links(idx)[0]
        info = link.get_attr("IFLA_LINKINFO")
        if info is None or info.get_attr("IFLA_INFO_KIND") != "vxlan":
            raise Conflict(f"device {name} exists and is not a VXLAN device")
        data = info.get_attr("IFLA_INFO_DATA")
        master = link.get_attr("IFLA_MASTER")
        master_name = None
        if master:
            master_name = str(ipr.get_links(master)[0].get_attr("IFLA_IFNAME"))
        return Vxlan(
            name=name,
            vni=int(data.get_attr("IFLA_VXLAN_ID")),
            local=data.get_attr("IFLA_VXLAN_LOCAL"),
            port=int(data.get_attr("IFLA_VXLAN_PORT")),
            mtu=int(link.get_attr("IFLA_MTU")),
            master=master_name,
            up=bool(link["flags"] & 1),
        )


def ensure(name: str, vni: int, local: str, port: int, mtu: int, bridge: str) -> str:
    """The device as asked, enslaved to `bridge` and up: created, unchanged, updated or
    recreated (VNI, source and port cannot change in place)."""
    have = get(name)
    action = "unchanged"
    with IPRoute() as ipr, translate(f"ensure {name}"):
        master = _index(ipr, bridge)
        if master is None:
            raise DriverError(f"bridge {bridge} of the overlay's network does not exist")
        if have is not None and (have.vni, have.local, have.port) != (vni, local, port):
            ipr.link("del", index=_index(ipr, name))
            have, action = None, "recreated"
        if have is None:
            ipr.link(
                "add",
                ifname=name,
                kind="vxlan",
                vxlan_id=vni,
                vxlan_local=local,
                vxlan_port=port,
                vxlan_learning=1,
            )
            action = "created" if action == "unchanged" else action
        elif (have.mtu, have.master, have.up) == (mtu, bridge, True):
            return action
        else:
            action = "updated"
        idx = _index(ipr, name)
        ipr.link("set", index=idx, mtu=mtu)
        ipr.link("set", index=idx, master=master, state="up")
    return action


def flood_peers(name: str) -> list[str]:
    """The VTEPs of the device's flood (all-zeros) entries."""
    with IPRoute() as ipr, translate(f"list {name}'s forwarding entries"):
        idx = _index(ipr, name)
        if idx is None:
            return []
        entries = ipr.fdb("dump", ifindex=idx)
        dsts = {e.get_attr("NDA_DST") for e in entries if e.get_attr("NDA_LLADDR") == ZERO_MAC}
    return sorted(str(d) for d in dsts if d)


def sync_peers(name: str, peers: list[str]) -> bool:
    """Flood entries for exactly `peers`; entries (learned ones too) toward any other VTEP go.
    Whether anything changed."""
    changed = False
    with IPRoute() as ipr, translate(f"program {name}'s forwarding entries"):
        idx = _index(ipr, name)
        if idx is None:
            raise DriverError(f"VXLAN device {name} vanished")
        wanted = set(peers)
        have: set[str] = set()
        for entry in ipr.fdb("dump", ifindex=idx):
            dst, mac = entry.get_attr("NDA_DST"), entry.get_attr("NDA_LLADDR")
            if dst is None or entry["ifindex"] != idx:
                continue  # the device's own address
            if dst in wanted and mac == ZERO_MAC:
                have.add(dst)
            elif dst not in wanted:
                ipr.fdb("del", ifindex=idx, lladdr=mac, dst=dst)
                changed = True
        for dst in sorted(wanted - have):
            ipr.fdb("append", ifindex=idx, lladdr=ZERO_MAC, dst=dst)
            changed = True
    return changed


def delete(name: str) -> None:
    """Remove the device; absent is fine."""
    with IPRoute() as ipr, translate(f"delete {name}"):
        idx = _index(ipr, name)
        if idx is not None:
            ipr.link("del", index=idx)


def exposed(bridge: str, gateway: str | None) -> list[str]:
    """The host's exposed addresses on `bridge` (every IPv4 address but the gateway)."""
    with IPRoute() as ipr, translate(f"list {bridge}'s addresses"):
        found = ipr.link_lookup(ifname=bridge)
        if not found:
            return []
        addrs = ipr.get_addr(index=found[0], family=socket.AF_INET)
        out = [f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}" for a in addrs]
    return sorted(a for a in out if a.split("/")[0] != gateway)
