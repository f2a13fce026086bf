"""Wire schemas of the agent's DNS verbs (`/v1/dns`): the `*.weave.local` records it serves.

The control plane sends the whole record set (`PUT /v1/dns` replaces it; sending
the same set twice changes nothing). A record maps one name inside the domain
(a container's name or hostname, a service name, an alias) to every address it
has on the overlays; the agent answers with all of them in random order and a
short TTL, so a restarted or moved container is found at its new address at once.
"""

import ipaddress
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_DOMAIN = "weave.local"
DEFAULT_TTL = 1
LABEL_RE = re.compile(r"^[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62})$")


class DnsRecord(BaseModel):
    """One name (relative to the domain, e.g. `mydb` for mydb.weave.local) and its addresses."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    addresses: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _labels(cls, value: str) -> str:
        labels = value.rstrip(".").lower().split(".")
        for label in labels:
            if not LABEL_RE.match(label):
                raise ValueError(f"{label!r} is not a DNS label")
        return ".".join(labels)

    @field_validator("addresses")
    @classmethod
    def _ips(cls, values: list[str]) -> list[str]:
        return [str(ipaddress.IPv4Address(v)) for v in values]


class DnsRecordSet(BaseModel):
    """`PUT /v1/dns`: every record this host answers for, in one domain."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(DEFAULT_DOMAIN, pattern=r"^[a-z0-9]([a-z0-9.-]{0,200})[a-z0-9]$")
    ttl: int = Field(DEFAULT_TTL, ge=0, le=3600)
    records: list[DnsRecord] = Field(default_factory=list)

    @field_validator("records")
    @classmethod
    def _unique(cls, values: list[DnsRecord]) -> list[DnsRecord]:
        names = [r.name for r in values]
        if len(names) != len(set(names)):
            raise ValueError("a name is listed twice; give all its addresses in one record")
        return values


class DnsState(DnsRecordSet):
    """`GET /v1/dns`: the record set being served, and where the responder listens."""

    model_config = ConfigDict(extra="ignore")

    listening: list[str] = Field(default_factory=list, description="host:port, UDP and TCP.")
    upstreams: list[str] = Field(default_factory=list, description="Where other names go.")
