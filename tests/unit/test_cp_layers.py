"""Dependencies point one way: api -> services -> reconcile -> (models, agentclient, contract)."""

import ast
from pathlib import Path

import controlplane

ROOT = Path(controlplane.__file__).parent

# Package -> packages it must never import (directly, at any depth of its tree).
FORBIDDEN = {
    "controlplane.server.reconcile": ("controlplane.server.services", "controlplane.server.api"),
    "controlplane.server.services": ("controlplane.server.api",),
    "controlplane.server.models": (
        "controlplane.server.services",
        "controlplane.server.reconcile",
        "controlplane.server.api",
    ),
    "controlplane.contract": ("controlplane.server", "controlplane.agent", "controlplane.cli"),
    "controlplane.agent": ("controlplane.server", "controlplane.cli"),
    "controlplane.stacks": ("controlplane.server", "controlplane.agent", "controlplane.cli"),
    "controlplane.cli": ("controlplane.server.api", "controlplane.server.services"),
}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, by absolute name."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def module_name(path: Path) -> str:
    return ".".join(("controlplane", *path.relative_to(ROOT).with_suffix("").parts))


def test_no_module_imports_against_the_direction_of_dependencies() -> None:
    wrong = []
    for path in ROOT.rglob("*.py"):
        name = module_name(path)
        for package, banned in FORBIDDEN.items():
            if name == package or name.startswith(package + "."):
                wrong += [
                    f"{name} imports {m}"
                    for m in imports_of(path)
                    if any(m == b or m.startswith(b + ".") for b in banned)
                ]
    assert wrong == []
    assert len(list(ROOT.rglob("*.py"))) > 50  # the walk found the package
