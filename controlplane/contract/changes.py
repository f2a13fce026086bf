"""Wire schema of the agent's change feed (`GET /v1/changes`): wake the reconciler, not poll.

The agent counts the engine's container events (start, die, destroy, health changes) of weft
containers. The control plane long-polls with the last count it saw and gets an
answer as soon as the count moved (or at the timeout, unchanged); `boot` differs
after an agent restart, whose count starts again at 0.
"""

from pydantic import BaseModel, Field

MAX_WAIT_S = 60.0


class Changes(BaseModel):
    """`GET /v1/changes?after=N&timeout=S`: the agent's change count now."""

    boot: str = Field(description="Differs after every agent start.")
    seq: int = Field(ge=0, description="Container events seen since the agent started.")
