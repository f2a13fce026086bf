"""A request body size limit (413), for the control plane and the agent alike.

It exists so that a 100 MB body is refused before it is read, not after: a
declared Content-Length over the limit is answered at once, and a chunked body is
cut off as soon as it passes the limit, so memory stays bounded either way.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controlplane.contract.problemjson import problem_response
from controlplane.contract.schemas import ProblemError


class BodyTooLarge(HTTPException):
    """The body passed the limit while it was being read.

    An HTTPException, so that FastAPI's body parsing passes it on (it turns other
    errors into a 400) and each app's own handler renders it as problem+json.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: bodies over `limit` bytes get 413, except under `exempt` prefixes."""

    def __init__(self, app: ASGIApp, limit: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared or streamed body over the limit; pass everything else on."""
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:  # the app answered before reading it all; nothing left to say
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is larger than {self.limit} bytes"
        fault = ProblemError(loc=["body"], msg=detail)
        await problem_response(413, "Request too large", detail, [fault])(scope, receive, send)
