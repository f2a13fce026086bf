"""/tokens: the API's bearer tokens (admin or reader)."""

from fastapi import APIRouter, Response, status

from controlplane.contract.bounds import ParamId
from controlplane.server.api.deps import Caller, SessionDep
from controlplane.server.models import TokenCreate, TokenCreated, TokenPublic
from controlplane.server.services import tokens as svc

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=list[TokenPublic])
async def list_tokens(session: SessionDep, _: Caller) -> list[TokenPublic]:
    """Every token's name and role (the secrets are not stored, only their hashes)."""
    return [TokenPublic.model_validate(t) for t in await svc.list_tokens(session)]


@router.post("", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
async def create_token(data: TokenCreate, session: SessionDep, _: Caller) -> TokenCreated:
    """Make a token; `role` reader (the default) may only read. The answer is the
    only place the token appears: keep it."""
    row, secret = await svc.issue_token(session, data)
    return TokenCreated.model_validate({**row.model_dump(), "token": secret})


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "It is the last admin token."}},
)
async def delete_token(token_id: ParamId, session: SessionDep, _: Caller) -> Response:
    """Revoke a token at once (the last admin token is kept)."""
    await svc.revoke_token(session, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
