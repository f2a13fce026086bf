"""What is wrong with a compose file, by path: the one error type of `controlplane.stacks`."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One fault at one path of the compose document (`services.web.ports[0]`)."""

    loc: Loc
    msg: str

    def path(self) -> str:
        """The path as people write it: `services.web.ports[0]`."""
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out or "(document)"


class ComposeInvalid(Exception):
    """The compose file cannot be deployed as it is; every problem names its path.

    `too_large` marks size limits (the API answers 413), `unplaceable` a placement
    that no ready host satisfies (409); anything else is 422.
    """

    def __init__(
        self, problems: Sequence[Problem], *, too_large: bool = False, unplaceable: bool = False
    ) -> None:
        self.problems = list(problems)
        self.too_large = too_large
        self.unplaceable = unplaceable
        super().__init__(self.summary())

    def summary(self) -> str:
        """One line: the first problem, and how many more."""
        if not self.problems:
            return "invalid compose file"
        first = self.problems[0]
        more = len(self.problems) - 1
        tail = f" (and {more} more)" if more else ""
        return f"{first.path()}: {first.msg}{tail}"


class Collector:
    """Gathers problems while a mapper walks the document, so all are reported at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, loc: Loc, msg: str) -> None:
        """Record a problem at loc."""
        self.problems.append(Problem(loc, msg))

    def unsupported(self, value: Mapping[str, object], allowed: Iterable[str], loc: Loc) -> None:
        """Report each key of value not in allowed: valid compose that weft does not act on.

        `x-` extension keys pass, as in Compose itself.
        """
        allowed = frozenset(allowed)
        for key in value:
            if key not in allowed and not str(key).startswith("x-"):
                self.add((*loc, key), "valid compose, but not supported by weft")

    def raise_if_any(self) -> None:
        """Raise ComposeInvalid with everything gathered so far."""
        if self.problems:
            raise ComposeInvalid(self.problems)
