"""The DNS responder's sockets: UDP and TCP on one address, forwarding to upstreams.

Records are swapped as one immutable `Zone`, so a query sees the old set or the
new one, never half of each, and an update is answered from the next query on.
With a state file the last set survives an agent restart (the control plane
re-sends it too; until then the host keeps answering).
"""

import contextlib
import logging
import os
import socketserver
import threading
from pathlib import Path

from dnslib import DNSError, DNSRecord

from controlplane.agent.dns.zone import Zone, answer, servfail
from controlplane.agent.settings import AgentSettings
from controlplane.contract.dns import DnsRecordSet, DnsState

log = logging.getLogger("weft.agent.dns")
RESOLV_CONF = Path("/etc/resolv.conf")
FORWARD_TIMEOUT = 2.0


def split_hostport(value: str, default_port: int = 53) -> tuple[str, int]:
    """'1.2.3.4:53' or '1.2.3.4' -> ('1.2.3.4', 53)."""
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and "." in host:
        return host, int(port)
    return value, default_port


def system_resolvers(path: Path = RESOLV_CONF) -> list[str]:
    """The `nameserver` lines of resolv.conf (IPv4 ones)."""
    out = []
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver" and "." in parts[1]:
                out.append(parts[1])
    return out


class DnsServer:
    """Answers `*.<domain>` from its zone and forwards everything else."""

    def __init__(self, listen: str, upstreams: list[str], state_file: Path | None = None) -> None:
        self.host, self.port = split_hostport(listen)
        self.upstreams = [split_hostport(u) for u in upstreams]
        self.state_file = state_file
        self.zone = Zone()
        self._record_set = DnsRecordSet()
        self._servers: list[socketserver.BaseServer] = []
        self._lock = threading.Lock()
        if state_file is not None and state_file.exists():
            with contextlib.suppress(OSError, ValueError):
                self._swap(DnsRecordSet.model_validate_json(state_file.read_text()))

    def _swap(self, rs: DnsRecordSet) -> None:
        with self._lock:
            self.zone, self._record_set = Zone.of(rs), rs

    def set_records(self, rs: DnsRecordSet) -> DnsState:
        """Serve `rs` from now on (saved first when there is a state file)."""
        if self.state_file is not None:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(rs.model_dump_json())
            os.replace(tmp, self.state_file)
        self._swap(rs)
        return self.state()

    def state(self) -> DnsState:
        """The record set served and the sockets."""
        addr = f"{self.host}:{self.port}"
        data = self._record_set.model_dump()
        upstreams = [f"{h}:{p}" for h, p in self.upstreams]
        return DnsState(**data, listening=[addr] if self._servers else [], upstreams=upstreams)

    def resolve(self, data: bytes) -> bytes | None:
        """The reply to one wire-format query (None: not a DNS query, dropped)."""
        try:
            request = DNSRecord.parse(data)
        except (DNSError, IndexError, ValueError):
            return None
        reply = answer(self.zone, request)
        if reply is not None:
            return bytes(reply.pack())
        for host, port in self.upstreams:
            try:
                return bytes(request.send(host, port, timeout=FORWARD_TIMEOUT))
            except (OSError, DNSError) as exc:
                log.info("upstream %s:%s failed for %s: %s", host, port, request.q.qname, exc)
        return bytes(servfail(request).pack())

    def start(self) -> None:
        """Bind UDP and TCP and serve in daemon threads."""
        outer = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = outer.resolve(data)
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class Tcp(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while size := self.rfile.read(2):
                    data = self.rfile.read(int.from_bytes(size, "big"))
                    reply = outer.resolve(data)
                    if reply is None:
                        return
                    self.wfile.write(len(reply).to_bytes(2, "big") + reply)

        class UdpServer(socketserver.ThreadingUDPServer):
            allow_reuse_address = True
            daemon_threads = True

        class TcpServer(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        udp = UdpServer((self.host, self.port), Udp)
        if self.port == 0:  # tests: take the port the kernel gave, for TCP too
            self.port = int(udp.socket.getsockname()[1])
        try:
            tcp = TcpServer((self.host, self.port), Tcp)
        except OSError:
            udp.server_close()
            raise
        self._servers = [udp, tcp]
        for server in self._servers:
            threading.Thread(target=server.serve_forever, name="weft-dns", daemon=True).start()

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []


def query(host: str, port: int, name: str, qtype: str = "A", tcp: bool = False) -> DNSRecord:
    """Ask one question (for tests and status checks)."""
    raw = DNSRecord.question(name, qtype).send(host, port, tcp=tcp, timeout=3)
    return DNSRecord.parse(raw)


def start_dns(settings: AgentSettings) -> DnsServer | None:
    """The responder the settings ask for, serving; None when `dns_listen` is unset."""
    if not settings.dns_listen:
        return None
    upstreams = settings.dns_upstreams
    if upstreams is None:
        upstreams = system_resolvers()
    state_file = settings.state_dir / "dns.json" if settings.state_dir else None
    server = DnsServer(settings.dns_listen, upstreams, state_file)
    server.start()
    return server
