"""The house's shape, read from the source: no import cycle, and no import from a lower layer back up.

Layers, top to bottom: the CLI; the commands (publish, check, serve: compositions of the
orchestrator); the orchestrator; the stages; the model, errors and specs. A module may import
its own layer or those below. Every ``import`` counts, wherever it sits: one inside a function
or under ``TYPE_CHECKING`` hides a cycle, it does not remove it.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "entretiens"

#: Top to bottom; a module belongs to the first layer with one of its names as a prefix, and
#: to STAGES when none matches. A new module that runs the pipeline goes into COMMANDS.
CLI = ("entretiens.cli", "entretiens.__main__")
COMMANDS = ("entretiens.publish", "entretiens.check", "entretiens.serve")
ORCHESTRATOR = ("entretiens.pipeline",)
BOTTOM = ("entretiens.errors", "entretiens.model", "entretiens.podcast_spec", "entretiens.rulebook")
LAYERS = ("cli", "commands", "orchestrator", "stages", "bottom")


def _name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {_name(path): path for path in (SOURCE / PACKAGE).rglob("*.py")}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that a module imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
    return {target for target in found if target in known and target != name}


def graph() -> dict[str, set[str]]:
    """Who imports whom inside the package."""
    found = modules()
    known = set(found)
    return {name: imports(name, path, known) for name, path in found.items()}


def layer(name: str) -> int:
    """0 for the CLI, down to 4 for the model, errors and specs."""
    if name == PACKAGE:
        return LAYERS.index("bottom")  # __init__: the version, nothing else.
    for index, prefixes in enumerate((CLI, COMMANDS, ORCHESTRATOR)):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            return index
    if any(name == prefix or name.startswith(prefix + ".") for prefix in BOTTOM):
        return LAYERS.index("bottom")
    return LAYERS.index("stages")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, directly or not (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{name} ({LAYERS[layer(name)]}) imports {target} ({LAYERS[layer(target)]})"
        for name, targets in sorted(graph().items())
        for target in sorted(targets)
        if layer(target) < layer(name)
    ]
    assert upward == []


def test_the_layers_are_all_there() -> None:
    # A rename must not empty a layer and leave these tests guarding nothing.
    found = {LAYERS[layer(name)] for name in modules()}
    assert found == set(LAYERS)
    assert layer("entretiens.pipeline") > layer("entretiens.publish") > layer("entretiens.cli.publish")


def test_the_checker_sees_a_cycle_and_an_upward_import() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer("entretiens.releases") > layer("entretiens.pipeline")
    assert layer("entretiens.model") > layer("entretiens.releases")


def test_imports_inside_functions_count(tmp_path: Path) -> None:
    module = tmp_path / "entretiens" / "stage.py"
    module.parent.mkdir()
    module.write_text("def f():\n    from . import pipeline\n    from entretiens.cli import cli\n")
    known = {"entretiens.pipeline", "entretiens.cli", "entretiens.stage"}
    assert imports("entretiens.stage", module, known) == {"entretiens.pipeline", "entretiens.cli"}


def test_the_readme_shows_every_module() -> None:
    # The README's "How it works" is the map of the house: a module it does not name is lost.
    readme = (SOURCE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    package = SOURCE / PACKAGE
    names = {
        f"`{path.name}/`" if path.is_dir() else f"`{path.name}`"
        for path in package.iterdir()
        if not path.name.startswith(("_", "."))
        and (path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").is_file()))
    }
    missing = sorted(name for name in names if name not in section)
    assert missing == [], f"add {', '.join(missing)} to the module table of README.md's 'How it works'"
