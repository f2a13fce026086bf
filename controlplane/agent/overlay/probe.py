"""Measure peers: a TCP connect to each one's agent, and the route's device and MTU."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from controlplane.contract.probe import ProbeRequest, ProbeResult, ProbeTarget


def _route(address: str) -> tuple[str | None, int | None, str | None]:
    """(device, MTU, error) of the route to `address`."""
    try:
        with IPRoute() as ipr:
            routes = ipr.route("get", dst=address)
            if not routes:
                return None, None, "no route"
            link = ipr.get_links(routes[0].get_attr("RTA_OIF"))[0]
            return str(link.get_attr("IFLA_IFNAME")), int(link.get_attr("IFLA_MTU")), None
    except NetlinkError as exc:
        return None, None, f"no route: {exc}"


def _one(target: ProbeTarget, timeout: float) -> ProbeResult:
    device, mtu, error = _route(target.address)
    if error is not None:
        return ProbeResult(address=target.address, reachable=False, error=error)
    started = time.monotonic()
    try:
        with socket.create_connection((target.address, target.port), timeout=timeout):
            pass
    except OSError as exc:
        # A refusal came back from the peer's kernel: with path_only, the path works.
        if not (target.path_only and isinstance(exc, ConnectionRefusedError)):
            reason = f"{target.address}:{target.port}: {exc.strerror or type(exc).__name__}"
            return ProbeResult(
                address=target.address, reachable=False, device=device, mtu=mtu, error=reason
            )
    rtt = round((time.monotonic() - started) * 1000, 3)
    return ProbeResult(address=target.address, reachable=True, rtt_ms=rtt, device=device, mtu=mtu)


def probe(request: ProbeRequest) -> list[ProbeResult]:
    """Try every target at once; results in the targets' order."""
    if not request.targets:
        return []
    with ThreadPoolExecutor(min(16, len(request.targets))) as pool:
        return list(pool.map(lambda t: _one(t, request.timeout_s), request.targets))
