"""The one direction of imports (docs/architecture.md): missions, audio and vision never import
patrol; sim imports none of the others; only the `patrol sim` command may start the simulator."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "missions": {"patrol", "audio", "vision", "sim"},
    "audio": {"patrol", "vision", "sim"},
    "vision": {"patrol", "audio", "sim"},
    "sim": {"patrol", "missions", "audio", "vision"},
    "patrol": {"sim"},
}
ALLOWED = {("patrol/commands/sim.py", "sim")}


def imported_packages(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for name in imported_packages(path) & FORBIDDEN[package]:
            if (rel, name) not in ALLOWED:
                offences.append(f"{rel} imports {name}")
    assert not offences, "\n".join(offences)
