"""Offline base images: debootstrap a Debian root file system and `docker import` it.

No registry answers on the machines weft is built on, so `FROM python:3.11-slim`
cannot be pulled. The same Dockerfiles take `ARG BASE_IMAGE`; offline we pass a
base built here from the Debian mirror the machine's apt already uses. The root
file system is cached as a tarball, so only the first build pays the minute.
"""

import fcntl
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from controlplane.build.errors import BuildError

log = logging.getLogger(__name__)

SUITE = "bookworm"
DEFAULT_CACHE = Path(os.environ.get("WEFT_CACHE_DIR", "/var/cache/weft"))
_INSTALLING = threading.Lock()
SOURCES_FILES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))


class BaseImageError(BuildError):
    """A base image could not be built."""


@dataclass(frozen=True)
class BaseSpec:
    """One offline base: its tag and the Debian packages on top of minbase."""

    name: str
    packages: tuple[str, ...]

    @property
    def tag(self) -> str:
        """The local tag the image builds pass as BASE_IMAGE."""
        return f"weft/base-{self.name}:{SUITE}"


_PYTHON = ("python3", "python3-venv", "ca-certificates")
BASES: dict[str, BaseSpec] = {
    "python": BaseSpec("python", _PYTHON),
    "mariadb": BaseSpec("mariadb", (*_PYTHON, "mariadb-server", "mariadb-client")),
}


def apt_mirror(sources: tuple[Path, ...] = SOURCES_FILES) -> str:
    """The Debian mirror this machine's apt uses for the main suite."""
    for path in sources:
        if not path.exists():
            continue
        mirror = _mirror_from(path.read_text())
        if mirror:
            return mirror
    raise BaseImageError(
        "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or "
        "/etc/apt/sources.list; set WEFT_APT_MIRROR"
    )


def _mirror_from(text: str) -> str | None:
    """The first URI serving SUITE (not -security) in deb822 or one-line format."""
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith((" ", "#")):
                fields[key.strip().lower()] = value.strip()
        if SUITE in fields.get("suites", "").split() and "uris" in fields:
            return fields["uris"].split()[0]
    for line in text.splitlines():
        parts = re.sub(r"\[[^\]]*\]", " ", line).split()  # drop "[arch=amd64]" options
        if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
            return parts[1]
    return None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock, so two builds never debootstrap the same base at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def image_exists(client: docker.DockerClient, ref: str) -> bool:
    """Whether the engine has an image by that reference."""
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def ensure_base(
    name: str, client: docker.DockerClient | None = None, cache_dir: Path = DEFAULT_CACHE
) -> str:
    """Make sure the base image `name` exists in the engine; return its tag."""
    spec = BASES[name]
    client = client or docker.from_env(timeout=600)
    if image_exists(client, spec.tag):
        return spec.tag
    tarball = cache_dir / f"base-{spec.name}-{SUITE}.tar"
    with _locked(cache_dir / f"base-{spec.name}.lock"):
        if image_exists(client, spec.tag):
            return spec.tag
        if not tarball.exists():
            _debootstrap_tarball(spec, tarball)
        log.info("importing %s from %s", spec.tag, tarball)
        repository, tag = spec.tag.split(":")
        client.api.import_image_from_file(
            str(tarball),
            repository=repository,
            tag=tag,
            changes=["ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]'],
        )
    return spec.tag


def _debootstrap_tarball(spec: BaseSpec, tarball: Path) -> None:
    """Build the root file system with debootstrap and pack it into `tarball`."""
    with _INSTALLING:  # two bases may be built at once; apt takes one install at a time
        if shutil.which("debootstrap") is None:
            _install_debootstrap()
    mirror = os.environ.get("WEFT_APT_MIRROR") or apt_mirror()
    log.info("debootstrap %s (%s) — about a minute, cached afterwards", spec.tag, spec.packages)
    with tempfile.TemporaryDirectory(prefix="weft-rootfs-", dir=tarball.parent) as tmp:
        rootfs = Path(tmp) / "rootfs"
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(spec.packages)}",
                SUITE,
                str(rootfs),
                mirror,
            ]
        )
        # Package archives are only needed to install; drop them to keep the base small.
        for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            deb.unlink()
        partial = tarball.with_suffix(".tar.partial")
        with partial.open("wb") as out:
            subprocess.run(["tar", "-C", str(rootfs), "-c", "."], stdout=out, check=True)
        partial.replace(tarball)


def _install_debootstrap() -> None:
    """Install debootstrap through the project's system set-up script (apt, as root)."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "ensure-system.sh"
    if not script.exists() or os.geteuid() != 0:
        raise BaseImageError(
            "debootstrap is missing: apt-get install debootstrap (as root), or give the "
            "engine a registry and build with --pull"
        )
    _run(["bash", str(script), "debootstrap"])
    if shutil.which("debootstrap") is None:
        raise BaseImageError("debootstrap is still missing after installing it")


def _run(cmd: list[str]) -> None:
    """Run a build step, keeping its output for the error if it fails."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise BaseImageError(f"{cmd[0]} failed ({done.returncode})", tail)
