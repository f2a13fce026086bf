"""What the builders raise on purpose: a one-line reason, and the log lines behind it.

`weft images build` and `weft world up` print the reason (and the log tail) and
exit 1; anything else is a bug and keeps its traceback.
"""


class BuildError(RuntimeError):
    """An image, a base or the world stack could not be made; `reason` is one line."""

    def __init__(self, reason: str, log: str = "") -> None:
        # A reason given with several lines keeps its first; the rest joins the log.
        reason, _, more = reason.strip().partition("\n")
        self.reason = reason
        self.log = "\n".join(part for part in (more.strip("\n"), log.strip("\n")) if part)
        super().__init__(f"{self.reason}\n{self.log}" if self.log else self.reason)
