"""`weft agent`: serve the agent app with uvicorn, optionally with mutual TLS."""

import ssl

import uvicorn

from controlplane.agent.app import create_app
from controlplane.agent.settings import AgentSettings


def serve(settings: AgentSettings) -> None:
    """Run the agent until interrupted."""
    host, port = settings.host_port()
    tls: dict[str, object] = {}
    if settings.tls_cert or settings.tls_key or settings.tls_ca:
        if not (settings.tls_cert and settings.tls_key):
            raise ValueError("TLS needs both --tls-cert and --tls-key")
        tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
        if settings.tls_ca:
            # Mutual TLS: only clients with a certificate from this CA get through.
            tls |= {"ssl_ca_certs": str(settings.tls_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level="info", **tls)  # type: ignore[arg-type]
