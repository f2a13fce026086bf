"""weft's Docker label keys and the spec hash, shared by the control plane and the agent.

Everything weft creates on a host carries `weft.managed=true`, `weft.owner` and,
for containers, `weft.spec-hash`; the reconciler finds, updates and
garbage-collects by these labels.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

PREFIX = "weft."
MANAGED = "weft.managed"
OWNER = "weft.owner"
SPEC_HASH = "weft.spec-hash"
STACK = "weft.stack"
SERVICE = "weft.service"
REPLICA = "weft.replica"
CONTAINER_ID = "weft.container-id"
NETWORK_ID = "weft.network-id"
# The image id a stack deploy resolved the service's image reference to: a rebuilt
# image under the same tag changes it, so the next deploy replaces that service.
IMAGE_ID = "weft.image-id"
TEST = "weft.test"

MANAGED_VALUE = "true"
DEFAULT_OWNER = "weft"

# Keys only the agent sets; a caller's value for them is overwritten.
RESERVED = frozenset({MANAGED, SPEC_HASH})


def managed_labels(owner: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Caller labels plus weft's own (`weft.managed`, and `weft.owner` unless given)."""
    labels = {k: v for k, v in (extra or {}).items() if k not in RESERVED}
    labels.setdefault(OWNER, owner)
    labels[MANAGED] = MANAGED_VALUE
    return labels


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_hash(spec: BaseModel | Mapping[str, Any], exclude: set[str] | None = None) -> str:
    """A stable hash of a spec: dict order never matters, list order does.

    Pydantic models are dumped without their default-valued fields, so adding an
    optional field to a schema does not change the hash of existing specs (which
    would recreate every container on upgrade).
    """
    if isinstance(spec, BaseModel):
        data: Any = spec.model_dump(mode="json", exclude=exclude, exclude_defaults=True)
    else:
        data = {k: v for k, v in spec.items() if not exclude or k not in exclude}
    digest = hashlib.sha256(canonical_json(data).encode()).hexdigest()
    return digest[:32]
