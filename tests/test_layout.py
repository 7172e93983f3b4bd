"""Project layout rules that code review alone would miss."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ganzoo"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_python_api_never_imports_from_the_cli() -> None:
    """ganzoo/cli only parses and prints: the Python API (everything else, entry point aside) must not need it."""
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(m for m in imported_modules(path) if m.split(".")[:2] == ["ganzoo", "cli"])
        for path in PACKAGE.rglob("*.py")
        if "cli" not in path.relative_to(PACKAGE).parts[:1] and path.name != "__main__.py"
    }
    assert not {path: modules for path, modules in offenders.items() if modules}


def test_lazy_api_exports_point_outside_the_cli() -> None:
    import ganzoo

    assert not [name for name, (module, _) in ganzoo._LAZY.items() if module.startswith("ganzoo.cli")]
