"""Clients of agents, made from a host's stored (sealed) token."""

import httpx

from controlplane.server.agentclient import AgentClient
from controlplane.server.sealing import TokenBox
from controlplane.server.settings import Settings


class Agents:
    """Makes an `AgentClient` for (agent URL, sealed token); seals tokens for storage.

    The reconcilers and services only ever hold the sealed form; it is opened here,
    at the one place a token goes on the wire.
    """

    def __init__(
        self,
        settings: Settings,
        box: TokenBox,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._box = box
        self._transport = transport
        self._timeout = settings.agent_timeout
        # Made once: an httpx client left to make its own loads the CA bundle, tens of
        # milliseconds of CPU for every short-lived client (a stack deploy makes many).
        self._ssl_context = settings.agents_ssl_context() or httpx.create_ssl_context()

    def seal(self, token: str) -> str:
        """The token as the database stores it."""
        return self._box.seal(token)

    def open(self, sealed: str) -> str:
        """What `seal` was given (the reconcilers open the mesh's pre-shared key with it)."""
        return self._box.open(sealed)

    def __call__(self, url: str, sealed_token: str) -> AgentClient:
        """A client of the agent at url (bearer token, plus TLS settings)."""
        return AgentClient(
            url,
            self._box.open(sealed_token),
            transport=self._transport,
            timeout=self._timeout,
            retries=1,
            backoff=0.2,
            ssl_context=self._ssl_context,
        )
