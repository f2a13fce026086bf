"""weft's own wheel for the images, built by several image builds at once.

`weft images build` builds each base's images side by side, and every image
context gets a wheel of weft built from the same source tree.
"""

import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from controlplane import __version__
from controlplane.build.wheels import project_wheel
from tests.harness import ROOT


def test_wheels_built_at_once_from_one_fresh_tree_all_succeed(tmp_path: Path) -> None:
    # A fresh clone, as CI has: no build/ folder from an earlier run.
    tree = tmp_path / "tree"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(tree)], check=True)

    def build(i: int) -> str:
        return project_wheel(tree, tmp_path / f"out{i}").name

    with ThreadPoolExecutor(3) as pool:
        names = list(pool.map(build, range(3)))
    assert names == [f"weft-{__version__}-py3-none-any.whl"] * 3
    for i, name in enumerate(names):
        with zipfile.ZipFile(tmp_path / f"out{i}" / name) as wheel:
            files = set(wheel.namelist())
        assert {"searchapi/typotrie.py", "controlplane/build/wheels.py"} <= files
