"""Domain errors; the API renders each as problem+json with its status, in one handler."""

from collections.abc import Sequence


class DomainError(Exception):
    """Base of the errors a service raises on purpose."""

    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        loc: Sequence[str | int] | None = None,
        errors: Sequence[tuple[Sequence[str | int], str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.loc = list(loc) if loc is not None else None
        # Several faults at once (a compose file's problems), each with its path.
        self.errors = [(list(where), msg) for where, msg in errors or ()]


class NotFound(DomainError):
    """The resource does not exist."""

    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The request clashes with existing state (a name, a subnet, a port, an address)."""

    status = 409
    title = "Conflict"


class AlreadyExists(Conflict):
    """A resource with that identity exists."""

    title = "Already exists"


class TooLarge(DomainError):
    """The request is over a size limit (a body, or what a compose file expands to)."""

    status = 413
    title = "Too large"


class Invalid(DomainError):
    """Well-formed but not acceptable (a reference to nothing, a value that cannot work)."""

    status = 422
    title = "Invalid"


class NotPermitted(DomainError):
    """The token lacks the right."""

    status = 403
    title = "Forbidden"


class Unauthenticated(DomainError):
    """No token, or an unknown one."""

    status = 401
    title = "Unauthorized"


class HostUnavailable(DomainError):
    """The host's agent did not answer (the request could not be checked or carried out)."""

    status = 503
    title = "Agent unavailable"
