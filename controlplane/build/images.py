"""Build weft's images: `images/<name>/Dockerfile` plus `wheels/` and `project/` folders.

Each Dockerfile starts `ARG BASE_IMAGE=<the official image a registry user
has>`. When the engine already has that image it is used; `--pull` (or
WEFT_PULL=1) lets the engine pull it; otherwise (no registry here) the base is
built offline with debootstrap. An image is rebuilt only when its inputs
changed: the Dockerfile folder, weft's source and the dependency set, hashed
into a label.
"""

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from controlplane import __version__
from controlplane.build.base import DEFAULT_CACHE, ensure_base, image_exists
from controlplane.build.errors import BuildError
from controlplane.build.wheels import dependency_wheels, project_wheel, requirements

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
HASH_LABEL = "weft.build-hash"
SOURCE_DIRS = ("controlplane", "searchapi")


class ImageBuildError(BuildError):
    """An image build failed; the message carries the builder's last output."""


@dataclass(frozen=True)
class ImageSpec:
    """One of weft's images and the offline base it builds on."""

    name: str
    base: str
    # Modules the image's build runs before weft's own wheel is installed: their
    # packages' files that they import (and the packages' data files) go to `seed/`
    # of the context. worlddb loads its data with them, so that slow step stays in
    # Docker's layer cache until something the loader uses changes.
    seed: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        """The image reference, tagged with weft's version."""
        return image_ref(self.name)


IMAGES: dict[str, ImageSpec] = {
    "worlddb": ImageSpec(
        "worlddb",
        base="mariadb",
        seed=("searchapi.loader.__main__",),
    ),
    "searchapi": ImageSpec("searchapi", base="python"),
    "agent": ImageSpec("agent", base="python"),
    "controlplane": ImageSpec("controlplane", base="python"),
}


def image_ref(name: str) -> str:
    """`weft/<name>:<version>`, the reference weft runs its images by."""
    return f"weft/{name}:{__version__}"


def build_all(
    only: Iterable[str] | None = None,
    pull: bool = False,
    client: docker.DockerClient | None = None,
    cache_dir: Path = DEFAULT_CACHE,
) -> list[str]:
    """Build the images asked for (all by default); return their tags."""
    if not (ROOT / "images").is_dir():
        raise ImageBuildError(f"no images/ folder under {ROOT}: build from a source checkout")
    logging.basicConfig(level=logging.INFO, format="weft: %(message)s")
    names = list(only) if only else list(IMAGES)
    unknown = sorted(set(names) - set(IMAGES))
    if unknown:
        raise ImageBuildError(f"unknown image(s) {unknown}; known: {sorted(IMAGES)}")
    client = client or docker.from_env(timeout=900)
    deps = dependency_wheels(ROOT / "pyproject.toml", cache_dir)
    # Images on different bases share nothing until they are built, so each base's
    # images build in a thread of their own: on a fresh machine the database image's
    # data load overlaps the other base's debootstrap and the Python images.
    by_base: dict[str, list[str]] = {}
    for name in names:
        by_base.setdefault(IMAGES[name].base, []).append(name)

    def build_group(group: list[str]) -> None:
        for name in group:
            _build_one(IMAGES[name], client, deps, pull, cache_dir)

    with ThreadPoolExecutor(max_workers=len(by_base)) as pool:
        for future in [pool.submit(build_group, group) for group in by_base.values()]:
            future.result()  # the first failure, after every build has ended
    return [IMAGES[name].tag for name in names]


def _build_one(
    spec: ImageSpec, client: docker.DockerClient, deps: Path, pull: bool, cache_dir: Path
) -> str:
    """Build one image unless an image with the same input hash is already there."""
    base = choose_base(default_base(spec), spec.base, client, pull, cache_dir)
    base_id = client.images.get(base).id if base else "registry-default"
    digest = _input_hash(spec, deps, base_id)
    previous = client.images.get(spec.tag) if image_exists(client, spec.tag) else None
    if previous is not None and (previous.labels or {}).get(HASH_LABEL) == digest:
        log.info("%s is up to date", spec.tag)
        return spec.tag
    log.info("building %s on %s", spec.tag, base or "the Dockerfile's default base")
    with tempfile.TemporaryDirectory(prefix=f"weft-build-{spec.name}-") as tmp:
        context = Path(tmp)
        shutil.copytree(ROOT / "images" / spec.name, context, dirs_exist_ok=True)
        _fill_context(context, spec, deps)
        buildargs = {"BASE_IMAGE": base} if base else {}
        _stream_build(
            client,
            path=str(context),
            tag=spec.tag,
            buildargs=buildargs,
            labels={HASH_LABEL: digest, "weft.version": __version__},
            pull=pull,
        )
    if previous is not None:
        _remove_if_unused(client, previous.id)
    return spec.tag


def _fill_context(context: Path, spec: ImageSpec, deps: Path) -> None:
    """The context beside the Dockerfile: `wheels/` (dependencies, with a
    requirements.txt), `project/` (weft's own wheel) and `seed/` when the image has one.

    Dependencies and weft's wheel are apart so that a change to weft's code leaves
    every layer before its install in the engine's build cache."""
    wheels = context / "wheels"
    shutil.copytree(deps, wheels, copy_function=_link_or_copy)
    (wheels / ".complete").unlink(missing_ok=True)
    (wheels / "requirements.txt").write_text("\n".join(requirements(ROOT / "pyproject.toml")))
    project_wheel(ROOT, context / "project")
    for path in seed_files(spec.seed):
        target = context / "seed" / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def seed_files(modules: Iterable[str]) -> list[Path]:
    """The checkout's files that importing `modules` loads, with the non-Python files
    (SQL, data) of the folders they are in; found by importing them in a child."""
    if not modules:
        return []
    code = (
        "import importlib, sys\n"
        f"for m in {list(modules)!r}: importlib.import_module(m)\n"
        "files = [getattr(m, '__file__', None) for m in list(sys.modules.values())]\n"
        "print('\\n'.join(f for f in files if f))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    found = {Path(line).resolve() for line in out.splitlines() if line}
    mine = {p for p in found if p.is_relative_to(ROOT) and ".venv" not in p.parts}
    folders = {p.parent for p in mine}
    data = {
        p
        for folder in folders
        for p in folder.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    return sorted(mine | data)


def _remove_if_unused(client: docker.DockerClient, image_id: str) -> None:
    """Drop the image a rebuild replaced, unless a container still runs from it."""
    try:
        client.images.remove(image_id, noprune=False)
    except docker.errors.APIError as exc:  # in use (409) or already gone (404)
        log.debug("kept replaced image %s: %s", image_id, exc)


def default_base(spec: ImageSpec) -> str:
    """The base a registry user gets: the default of the Dockerfile's `ARG BASE_IMAGE`."""
    for line in (ROOT / "images" / spec.name / "Dockerfile").read_text().splitlines():
        match = re.match(r"\s*ARG\s+BASE_IMAGE=(\S+)", line)
        if match:
            return match.group(1)
    raise ImageBuildError(f"images/{spec.name}/Dockerfile has no `ARG BASE_IMAGE=<default>`")


def choose_base(
    default: str, offline: str, client: docker.DockerClient, pull: bool, cache_dir: Path
) -> str | None:
    """The base to build on: `default` if the engine has it, None to let the engine pull it,
    else the offline base named `offline`, built here if needed."""
    if image_exists(client, default):
        return default
    if pull:
        return None
    return ensure_base(offline, client, cache_dir)


def _stream_build(client: docker.DockerClient, **kwargs: Any) -> None:
    """Run the engine's build, logging its steps and raising on the first error."""
    tail: list[str] = []
    for chunk in client.api.build(rm=True, forcerm=True, decode=True, **kwargs):
        if "error" in chunk:
            raise ImageBuildError(f"{kwargs['tag']}: {chunk['error']}", "".join(tail[-20:]))
        line = chunk.get("stream", "")
        if line:
            tail.append(line)
            if line.startswith("Step "):
                log.info("%s: %s", kwargs["tag"], line.strip())


def _input_hash(spec: ImageSpec, deps: Path, base_id: str) -> str:
    """A hash of everything that goes into the image."""
    h = hashlib.sha256()
    h.update(base_id.encode())
    h.update("\n".join(requirements(ROOT / "pyproject.toml")).encode())
    h.update("\n".join(sorted(p.name for p in deps.glob("*.whl"))).encode())
    files = [p for p in (ROOT / "images" / spec.name).rglob("*") if p.is_file()]
    for folder in SOURCE_DIRS:
        files.extend(
            p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
    files.append(ROOT / "pyproject.toml")
    for path in sorted(files):
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _link_or_copy(src: str, dst: str) -> str:
    """Hard-link a cached wheel into the build context, copying across file systems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst
