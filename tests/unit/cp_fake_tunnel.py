"""The fake agent's WireGuard tunnel (`/v1/tunnel`), as the agent answers it.

A key pair is a random public key (the fake has no private one); the interface is
the spec as given, each peer with a fresh handshake, or none for the peers listed
in `FakeTunnel.silent` (their tunnel is down).
"""

import base64
import os
from dataclasses import dataclass, field
from typing import Any

import httpx

from controlplane.contract.probe import ProbeResult
from controlplane.contract.tunnel import (
    TunnelPeerState,
    TunnelSpec,
    TunnelState,
    psk_fingerprint,
)
from controlplane.server.models.common import utcnow


def new_key() -> str:
    """A random 32-byte key, base64, as WireGuard writes one."""
    return base64.b64encode(os.urandom(32)).decode()


@dataclass
class FakeTunnel:
    """One fake host's key and interface."""

    public_key: str = field(default_factory=new_key)
    state: TunnelState | None = None
    spec: TunnelSpec | None = None
    # Peers' public keys that never complete a handshake.
    silent: set[str] = field(default_factory=set)
    puts: int = 0

    def handle(
        self, method: str, parts: list[str], query: httpx.QueryParams, body: Any
    ) -> httpx.Response | None:
        """The answer to a tunnel request, or None when the request is not one."""
        match (method, parts):
            case ("GET", ["v1", "tunnel"]):
                name = query.get("interface")
                if name is None:
                    return _ok(TunnelState(public_key=self.public_key))
                if self.state is None or self.state.interface != name:
                    return httpx.Response(404, json={"title": "Not found", "status": 404})
                return _ok(self._state())
            case ("PUT", ["v1", "tunnel"]):
                self.spec = TunnelSpec.model_validate(body)
                self.puts += 1
                self.state = self._state()
                return _ok(self.state)
            case ("POST", ["v1", "tunnel", "rotate"]):
                self.public_key = new_key()
                return _ok(self._state() if self.state else TunnelState(public_key=self.public_key))
            case ("POST", ["v1", "probe"]) if all(t.get("path_only") for t in body["targets"]):
                return self._probe([t["address"] for t in body["targets"]])
            case ("DELETE", ["v1", "tunnel", name]):
                if self.state is not None and self.state.interface == name:
                    self.state = self.spec = None
                return httpx.Response(204)
        return None

    def _probe(self, addresses: list[str]) -> httpx.Response:
        """Through the tunnel: peers that are not silent answer (a refusal)."""
        up = {
            p.tunnel_address
            for p in (self.spec.peers if self.spec else [])
            if p.public_key not in self.silent
        }
        results = [
            ProbeResult(address=a, reachable=a in up, error=None if a in up else "timed out")
            for a in addresses
        ]
        return httpx.Response(200, json=[r.model_dump(mode="json") for r in results])

    def _state(self) -> TunnelState:
        spec = self.spec
        assert spec is not None
        psk = psk_fingerprint(spec.preshared_key) if spec.preshared_key else None
        now = utcnow()
        return TunnelState(
            public_key=self.public_key,
            interface=spec.interface,
            backend="kernel",
            address=spec.address,
            listen_port=spec.listen_port,
            mtu=1420,
            peers=[
                TunnelPeerState(
                    public_key=p.public_key,
                    endpoint=p.endpoint,
                    allowed_ips=[f"{p.tunnel_address}/32"],
                    latest_handshake=None if p.public_key in self.silent else now,
                    rx_bytes=0,
                    tx_bytes=0,
                    persistent_keepalive=spec.persistent_keepalive or None,
                    psk_fingerprint=psk,
                )
                for p in spec.peers
            ],
        )


def _ok(value: TunnelState) -> httpx.Response:
    return httpx.Response(200, json=value.model_dump(mode="json"))
