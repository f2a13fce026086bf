"""The search API's domain errors; rendered as problem+json in one place (problems.py)."""


class SearchError(Exception):
    """Base of the errors the API renders as problem+json."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class DatabaseUnavailable(SearchError):
    """The database cannot be reached, or did not answer in time."""

    status = 503
    title = "Database unavailable"


class NotLoaded(SearchError):
    """The database answers but holds no world data (yet)."""

    status = 503
    title = "World data not loaded"


class PoolExhausted(SearchError):
    """Every database connection stayed busy for the whole acquire timeout."""

    status = 503
    title = "Too busy"


class NotFound(SearchError):
    """The thing asked for does not exist."""

    status = 404
    title = "Not found"


class InvalidParameter(SearchError):
    """A parameter passed type checks but cannot be used (e.g. folds to nothing)."""

    status = 422
    title = "Invalid parameter"

    def __init__(self, loc: tuple[str, ...], detail: str) -> None:
        super().__init__(detail)
        self.loc = loc
