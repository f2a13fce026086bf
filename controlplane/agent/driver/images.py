"""Images: load a `docker save` tarball, save one, inspect by reference."""

from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors

from controlplane.agent.driver.engine import translate
from controlplane.agent.errors import Invalid, NotFound
from controlplane.contract.schemas import ImageInfo, ImageLoadResult

_LOADED = "Loaded image: "
_LOADED_ID = "Loaded image ID: "


def load_image(client: docker.DockerClient, tarball: Path) -> ImageLoadResult:
    """`docker load` the spooled tarball; the tags (or ids, for untagged images) loaded."""
    tags: list[str] = []
    ids: list[str] = []
    with translate("load image"), tarball.open("rb") as f:
        for chunk in client.api.load_image(f):
            if "error" in chunk:
                raise Invalid(f"docker load: {chunk['error']}", ["body"])
            for line in str(chunk.get("stream", "")).splitlines():
                if line.startswith(_LOADED):
                    tags.append(line[len(_LOADED) :].strip())
                elif line.startswith(_LOADED_ID):
                    ids.append(line[len(_LOADED_ID) :].strip())
    if not tags and not ids:
        raise Invalid("docker load loaded nothing: not an image tarball?", ["body"])
    return ImageLoadResult(tags=tags, ids=ids)


def get_image(client: docker.DockerClient, ref: str) -> ImageInfo:
    """The image `ref` (NotFound → 404 through the translation)."""
    with translate(f"image {ref}"):
        try:
            data = client.api.inspect_image(ref)
        except docker.errors.NotFound as exc:  # here a plain 404, not "image missing"
            raise NotFound(f"image {ref} is not on this host", ["path", "ref"]) from exc
    return ImageInfo(
        id=data["Id"],
        tags=data.get("RepoTags") or [],
        size=data.get("Size") or 0,
        created=data.get("Created"),
    )


def save_image(client: docker.DockerClient, ref: str) -> Iterator[bytes]:
    """`docker save` of the image `ref`, as the engine streams it.

    A generator runs only when read, so callers look the image up first (`get_image`)
    to answer a missing one with a 404 rather than a cut stream.
    """
    with translate(f"save image {ref}"):
        yield from client.api.get_image(ref, chunk_size=1 << 20)
