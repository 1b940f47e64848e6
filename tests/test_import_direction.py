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


def sim_imports(path: Path) -> set[str]:
    """The sim modules ``path`` imports, TYPE_CHECKING-only imports included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "sim":
                names.update(alias.name for alias in node.names)
            elif node.module.startswith("sim."):
                names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names if a.name.startswith("sim."))
    return names


def test_sim_modules_import_each_other_without_a_cycle() -> None:
    """Inside sim, imports form layers (state below telemetry and navigation, vehicle on top):
    no module reaches itself again, not even through a TYPE_CHECKING import."""
    modules = {p.stem: p for p in (ROOT / "sim").glob("*.py") if p.stem != "__init__"}
    graph = {name: sim_imports(path) & modules.keys() for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            pytest.fail("sim import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
