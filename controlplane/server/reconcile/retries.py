"""Per-resource retries: exponential backoff with jitter, and a repeated failure told once.

This exists to stop a resource that keeps failing (an image that is missing, a
port something outside weft holds) from being retried at every pass: that wrote
one event per half second, flushed the event history in minutes and kept the
agent busy for nothing. Each failing resource waits out its own delay, doubled
per failure up to a cap, with jitter so that resources which failed together do
not retry together. A different attempt (a new spec, a write to the resource)
starts afresh, and so does a success.

Pure bookkeeping: the runner passes the clock in, so this is tested without one.
"""

import random
import re
from collections.abc import Hashable
from dataclasses import dataclass, field

# A resource as the runner names it: (kind, name).
Key = tuple[str, str]

# Docker names a fresh endpoint or object in many messages: the same failure, told
# again, differs only in such ids, so they do not count when comparing reasons.
_OBJECT_ID = re.compile(r"\b[0-9a-f]{12,64}\b")


def same_failure(a: str, b: str) -> bool:
    """True when two reasons tell the same failure (they differ at most in object ids)."""
    return _OBJECT_ID.sub("<id>", a) == _OBJECT_ID.sub("<id>", b)


@dataclass
class Failing:
    """A resource whose last attempt failed."""

    # What was attempted; another attempt for the same resource is not held back.
    attempt: Hashable
    reason: str
    # When (monotonic seconds) it first failed.
    since: float
    # Consecutive failed attempts.
    count: int = 0
    # When (monotonic seconds) the next attempt may run.
    due: float = 0.0
    # The event recording `reason`: a repeat of the same reason counts on it.
    event_id: int | None = None


@dataclass
class Retries:
    """The failing resources of one host, and when each may be tried again."""

    initial: float
    cap: float
    rng: random.Random = field(default_factory=random.Random)
    failing: dict[Key, Failing] = field(default_factory=dict)

    def delay(self, count: int) -> float:
        """The wait after `count` consecutive failures: doubled each time, capped, ±20 %."""
        base = min(self.cap, self.initial * 2 ** min(count - 1, 32))
        return base * self.rng.uniform(0.8, 1.2)

    def held(self, key: Key, attempt: Hashable, now: float) -> bool:
        """True while `key` waits out its delay for this same attempt."""
        entry = self.failing.get(key)
        if entry is None:
            return False
        if entry.attempt != attempt:  # asked for something else now: try at once
            del self.failing[key]
            return False
        return now < entry.due

    def failed(self, key: Key, attempt: Hashable, reason: str, now: float) -> tuple[Failing, bool]:
        """Count a failure; the entry, and True when it repeats the recorded reason."""
        entry = self.failing.get(key)
        if entry is None or entry.attempt != attempt:
            entry = self.failing[key] = Failing(attempt, reason, now)
        repeat = entry.event_id is not None and same_failure(entry.reason, reason)
        if not repeat:
            entry.reason, entry.event_id = reason, None
        entry.count += 1
        entry.due = now + self.delay(entry.count)
        return entry, repeat

    def succeeded(self, key: Key) -> None:
        """The resource is fine again: its next failure starts from the first delay."""
        self.failing.pop(key, None)

    def keep_only(self, keys: set[Key]) -> None:
        """Forget resources with nothing left to do (converged, or gone)."""
        for key in set(self.failing) - keys:
            del self.failing[key]

    def forget_since(self, since: float) -> None:
        """Retry at once what first failed after `since` (something it waited on finished)."""
        for key, entry in list(self.failing.items()):
            if entry.since >= since:
                del self.failing[key]

    def next_due(self) -> float | None:
        """The earliest time a held resource may run again (None: nothing held)."""
        return min((e.due for e in self.failing.values()), default=None)
