"""Domain errors; the API renders each as problem+json with its status, in one handler."""

from controlplane.contract.problemjson import ProblemException


class DomainError(ProblemException):
    """Base of the errors a service raises on purpose (`loc`: the field at fault)."""

    status = 400
    title = "Bad request"


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
