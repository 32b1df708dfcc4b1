"""The layers of docs/design.md hold: no module imports a package ranked above its own.

core < loaders < warehouse < query < snomed, scrub < cli. snomed and scrub share a rank and do
not import each other. Imports inside functions count as much as those at the top: a lazy
import is still a dependency. An AST walk (no third-party linter to install) over every module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "codesets"
RANK = {"core": 0, "loaders": 1, "warehouse": 2, "query": 3, "snomed": 4, "scrub": 4, "cli": 5}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "codesets" and parts[1] in RANK else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "codesets":  # `from codesets import loaders` names a package
                found += [(node.lineno, f"codesets.{alias.name}") for alias in node.names]
    return found


def violations(root: Path = PACKAGE) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        own = _layer("codesets." + ".".join(path.relative_to(root).with_suffix("").parts))
        if own is None:
            continue  # codesets/__init__.py: the root re-exports lazily, above every layer
        for line, module in _imports(path):
            other = _layer(module)
            if other is None or other == own:
                continue
            if RANK[other] > RANK[own] or (RANK[other] == RANK[own]):
                bad.append(f"{path.relative_to(root.parent)}:{line}: {own} imports {module} ({other})")
    return bad


def test_no_module_imports_a_layer_above_its_own():
    assert violations() == []


def test_every_package_has_a_rank():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(RANK), "a new package needs a place in RANK (and in docs/design.md)"


def test_the_walk_sees_an_upward_import(tmp_path):
    """The rule can fail: a loader importing the query layer, even inside a function, is caught."""
    fake = tmp_path / "codesets"
    (fake / "loaders").mkdir(parents=True)
    (fake / "loaders" / "bad.py").write_text("def f():\n    from codesets.query import validity\n")
    (fake / "scrub").mkdir()
    (fake / "scrub" / "x.py").write_text("from codesets import snomed\n")
    found = violations(fake)
    assert len(found) == 2 and "loaders imports codesets.query" in found[0] and "scrub imports codesets.snomed" in found[1]


@pytest.mark.parametrize("name", ["connect", "__version__"])
def test_the_root_package_offers_the_one_line_start(name):
    import codesets

    assert getattr(codesets, name)
