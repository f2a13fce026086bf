"""This host's WireGuard interface: its key pair, the interface, its peers.

The kernel's WireGuard is used when the kernel has it; otherwise `wireguard-go`
(the userspace implementation) runs the interface, started by the agent in its
own session so that it outlives an agent restart (the datapath must). Peers are
programmed with `wg set`, which speaks to both. The private key is made here
(X25519), written to the state directory with mode 0600 and only ever passed to
`wg` by its file name.

Fail closed: besides the tunnel network's own route through the interface, a
blackhole route for the same network (higher metric) stays in place, so when
the interface is down or gone, packets for tunnel addresses (the encrypted
overlay's VTEPs) are dropped instead of following a default route in plaintext.
"""

import base64
import contextlib
import ipaddress
import os
import re
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from controlplane.agent.errors import DriverError, NotFound
from controlplane.agent.overlay.vxlan import translate
from controlplane.contract.tunnel import (
    IFNAME_PATTERN,
    TunnelPeerState,
    TunnelSpec,
    TunnelState,
    psk_fingerprint,
)

KEY_FILE = "wireguard.key"
WG_SOCKETS = Path("/var/run/wireguard")
WIREGUARD_OVERHEAD = 80
BLACKHOLE_METRIC = 4000
_EOPNOTSUPP = 95


def _key_path(state_dir: Path) -> Path:
    return state_dir / KEY_FILE


def _write_secret(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, path)


def _new_key(state_dir: Path) -> None:
    raw = X25519PrivateKey.generate().private_bytes_raw()
    state_dir.mkdir(parents=True, exist_ok=True)
    _write_secret(_key_path(state_dir), base64.b64encode(raw).decode())


def public_key(state_dir: Path) -> str:
    """This host's public key (the key pair is made on first use)."""
    path = _key_path(state_dir)
    if not path.exists():
        _new_key(state_dir)
    raw = base64.b64decode(path.read_text().strip())
    pub = X25519PrivateKey.from_private_bytes(raw).public_key()
    return base64.b64encode(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def _wg(*args: str) -> str:
    done = subprocess.run(["wg", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise DriverError(f"wg {' '.join(args[:2])}: {done.stderr.strip()}")
    return done.stdout


def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None


def _backend(name: str) -> str:
    return "wireguard-go" if (WG_SOCKETS / f"{name}.sock").exists() else "kernel"


def _create(name: str, state_dir: Path) -> None:
    """The interface, by the kernel if it can, else by a wireguard-go process."""
    with IPRoute() as ipr:
        try:
            ipr.link("add", ifname=name, kind="wireguard")
            return
        except NetlinkError as exc:
            if exc.code not in (_EOPNOTSUPP, 22):  # no WireGuard in this kernel
                raise DriverError(f"create {name}: {exc}") from exc
    log = (state_dir / f"{name}.log").open("ab")
    with log:
        proc = subprocess.Popen(
            ["wireguard-go", "-f", name],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (state_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with IPRoute() as ipr:
            if _index(ipr, name) is not None and (WG_SOCKETS / f"{name}.sock").exists():
                return
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise DriverError(f"wireguard-go did not bring up {name} (see {state_dir / name}.log)")


def _underlay_mtu(ipr: IPRoute, endpoint_host: str | None) -> int:
    """The MTU of the device toward the first peer (1500 without peers)."""
    if endpoint_host is None:
        return 1500
    routes = ipr.route("get", dst=endpoint_host)
    return int(ipr.get_links(routes[0].get_attr("RTA_OIF"))[0].get_attr("IFLA_MTU"))


def ensure(spec: TunnelSpec, state_dir: Path) -> TunnelState:
    """The interface with this host's key, the spec's address, port, MTU and exactly its peers."""
    public_key(state_dir)  # the key pair exists before the interface
    iface = ipaddress.IPv4Interface(spec.address)
    with IPRoute() as ipr:
        exists = _index(ipr, spec.interface) is not None
    if not exists:
        _create(spec.interface, state_dir)
    _wg(
        "set",
        spec.interface,
        "private-key",
        str(_key_path(state_dir)),
        "listen-port",
        str(spec.listen_port),
    )
    wanted = {p.public_key for p in spec.peers}
    for pub in _wg("show", spec.interface, "peers").split():
        if pub not in wanted:
            _wg("set", spec.interface, "peer", pub, "remove")
    psk = state_dir / f"{spec.interface}.psk"
    try:
        if spec.preshared_key:
            _write_secret(psk, spec.preshared_key)
        for p in spec.peers:
            args = ["set", spec.interface, "peer", p.public_key, "endpoint", p.endpoint]
            args += ["allowed-ips", f"{p.tunnel_address}/32"]
            args += ["preshared-key", str(psk) if spec.preshared_key else "/dev/null"]
            args += ["persistent-keepalive", str(spec.persistent_keepalive or "off")]
            _wg(*args)
    finally:
        psk.unlink(missing_ok=True)
    with IPRoute() as ipr, translate(f"configure {spec.interface}"):
        idx = _index(ipr, spec.interface)
        first = spec.peers[0].endpoint.rpartition(":")[0] if spec.peers else None
        mtu = spec.mtu or _underlay_mtu(ipr, first) - WIREGUARD_OVERHEAD
        for addr in ipr.get_addr(index=idx, family=socket.AF_INET):
            if addr.get_attr("IFA_ADDRESS") != str(iface.ip):
                old, plen = addr.get_attr("IFA_ADDRESS"), addr["prefixlen"]
                ipr.addr("del", index=idx, address=old, prefixlen=plen)
        with contextlib.suppress(NetlinkError):
            ipr.addr("add", index=idx, address=str(iface.ip), prefixlen=iface.network.prefixlen)
        ipr.link("set", index=idx, mtu=mtu, state="up")
        with contextlib.suppress(NetlinkError):  # EEXIST: it is there already
            ipr.route(
                "add",
                dst=str(iface.network),
                type="blackhole",
                priority=BLACKHOLE_METRIC,
            )
    return state(spec.interface, state_dir)


def state(name: str | None, state_dir: Path) -> TunnelState:
    """The public key, and the interface as WireGuard and the kernel report it."""
    pub = public_key(state_dir)
    if name is None:
        return TunnelState(public_key=pub)
    with IPRoute() as ipr:
        idx = _index(ipr, name)
        if idx is None:
            raise NotFound(f"no tunnel interface {name}", ["path", "interface"])
        link = ipr.get_links(idx)[0]
        addrs = ipr.get_addr(index=idx, family=socket.AF_INET)
        address = None
        if addrs:
            address = f"{addrs[0].get_attr('IFA_ADDRESS')}/{addrs[0]['prefixlen']}"
    lines = _wg("show", name, "dump").splitlines()
    port = int(lines[0].split("\t")[2]) if lines else None
    peers = []
    for line in lines[1:]:
        pub_key, psk, endpoint, allowed, handshake, rx, tx, keepalive = line.split("\t")
        seen = int(handshake)
        peers.append(
            TunnelPeerState(
                public_key=pub_key,
                endpoint=None if endpoint == "(none)" else endpoint,
                allowed_ips=[a for a in allowed.split(",") if a and a != "(none)"],
                latest_handshake=datetime.fromtimestamp(seen, UTC) if seen else None,
                rx_bytes=int(rx),
                tx_bytes=int(tx),
                persistent_keepalive=int(keepalive) if keepalive.isdigit() else None,
                psk_fingerprint=None if psk == "(none)" else psk_fingerprint(psk),
            )
        )
    return TunnelState(
        public_key=pub,
        interface=name,
        backend=_backend(name),
        address=address,
        listen_port=port,
        mtu=int(link.get_attr("IFLA_MTU")),
        peers=peers,
    )


def rotate(name: str | None, state_dir: Path) -> TunnelState:
    """A new key pair; a running interface switches to it at once (networks stay)."""
    _new_key(state_dir)
    if name is not None:
        with IPRoute() as ipr:
            exists = _index(ipr, name) is not None
        if exists:
            _wg("set", name, "private-key", str(_key_path(state_dir)))
    return state(name if name else None, state_dir)


def _is_ours(pid: int, name: str) -> bool:
    """Whether `pid` still is the wireguard-go the agent started for `name` (not a reused pid)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(args) and args[0].endswith(b"wireguard-go") and name.encode() in args


def stop_started(pidfile: Path) -> int | None:
    """Stop the wireguard-go process a pid file of ours names (its pid), and drop the file."""
    name = pidfile.name.removesuffix(".pid")
    stopped = None
    with contextlib.suppress(OSError, ValueError):
        pid = int(pidfile.read_text().strip())
        if _is_ours(pid, name):
            os.kill(pid, signal.SIGTERM)
            stopped = pid
    pidfile.unlink(missing_ok=True)
    return stopped


def interfaces() -> list[str]:
    """This host's WireGuard interfaces weft names (kernel or wireguard-go devices)."""
    with IPRoute() as ipr, translate("list tunnel interfaces"):
        names = [str(link.get_attr("IFLA_IFNAME")) for link in ipr.get_links()]
    return sorted(n for n in names if re.match(IFNAME_PATTERN, n))


def delete(name: str, state_dir: Path | None) -> int | None:
    """Remove the interface (stopping the wireguard-go the agent started: its pid, if it did)
    and its blackhole route."""
    with IPRoute() as ipr, translate(f"delete {name}"):
        idx = _index(ipr, name)
        if idx is not None:
            for addr in ipr.get_addr(index=idx, family=socket.AF_INET):
                net = ipaddress.IPv4Interface(
                    f"{addr.get_attr('IFA_ADDRESS')}/{addr['prefixlen']}"
                ).network
                with contextlib.suppress(NetlinkError):
                    ipr.route("del", dst=str(net), type="blackhole", priority=BLACKHOLE_METRIC)
    stopped = stop_started(state_dir / f"{name}.pid") if state_dir is not None else None
    with IPRoute() as ipr, translate(f"delete {name}"):
        deadline = time.monotonic() + 5
        while (idx := _index(ipr, name)) is not None and time.monotonic() < deadline:
            if _backend(name) == "kernel":
                ipr.link("del", index=idx)
            time.sleep(0.05)
        if idx is not None:  # a wireguard-go the agent did not start (no pid file of ours)
            with contextlib.suppress(NetlinkError):
                ipr.link("del", index=idx)
    # wireguard-go normally removes its socket; one killed before it could does not.
    (WG_SOCKETS / f"{name}.sock").unlink(missing_ok=True)
    return stopped


def remove_blackholes() -> list[str]:
    """Drop the fail-closed blackhole routes of tunnels (weft's metric) whose interface is gone."""
    live = set()
    with IPRoute() as ipr, translate("list tunnel routes"):
        for name in interfaces():
            for addr in ipr.get_addr(index=_index(ipr, name), family=socket.AF_INET):
                iface = f"{addr.get_attr('IFA_ADDRESS')}/{addr['prefixlen']}"
                live.add(str(ipaddress.IPv4Interface(iface).network))
        removed = []
        for route in ipr.get_routes(family=socket.AF_INET, type="blackhole"):
            if route.get_attr("RTA_PRIORITY") != BLACKHOLE_METRIC:
                continue
            dst = f"{route.get_attr('RTA_DST')}/{route['dst_len']}"
            if dst not in live:
                ipr.route("del", dst=dst, type="blackhole", priority=BLACKHOLE_METRIC)
                removed.append(dst)
    return removed
