"""Images: load an uploaded `docker save` tarball, send one, look one up."""

import os
import tempfile
from pathlib import Path as FsPath
from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from controlplane.agent.api.deps import Engine, Settings, blocking
from controlplane.agent.driver import images as driver
from controlplane.contract.schemas import ImageInfo, ImageLoadResult

router = APIRouter(prefix="/v1/images", tags=["images"])

_TARBALL_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/x-tar": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put("", response_model=ImageLoadResult, openapi_extra=_TARBALL_BODY)
async def load_image(request: Request, engine: Engine, settings: Settings) -> ImageLoadResult:
    """Load the `docker save` tarball in the body (streamed; spooled to disk first)."""
    fd, name = tempfile.mkstemp(prefix="weft-image-", suffix=".tar", dir=settings.spool_dir)
    os.close(fd)
    path = FsPath(name)
    try:
        async with await anyio.open_file(path, "wb") as f:
            async for chunk in request.stream():
                await f.write(chunk)
        return await blocking(driver.load_image, engine, path)
    finally:
        await anyio.Path(path).unlink(missing_ok=True)


@router.get(
    "/{ref:path}/tarball",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-tar": {"schema": {"type": "string"}}}}},
)
async def save_image(ref: Annotated[str, Path(min_length=1)], engine: Engine) -> StreamingResponse:
    """The image as a `docker save` tarball (streamed), e.g. for another host's `PUT`.

    The image is looked up first, so a missing one is a 404 problem, not a cut stream.
    """
    await blocking(driver.get_image, engine, ref)
    chunks = driver.save_image(engine, ref)
    return StreamingResponse(chunks, media_type="application/x-tar")


@router.get("/{ref:path}", response_model=ImageInfo)
async def get_image(ref: Annotated[str, Path(min_length=1)], engine: Engine) -> ImageInfo:
    """The image if this host has it (404 otherwise), e.g. /v1/images/weft/agent:0.1.0."""
    return await blocking(driver.get_image, engine, ref)
