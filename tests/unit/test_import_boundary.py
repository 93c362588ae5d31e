"""Issue 2, must show 6: the domain imports nothing from frameworks or outer layers."""

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED_THIRD_PARTY = {"eventsourcing.domain"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def is_allowed(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or top == "domain" or module in ALLOWED_THIRD_PARTY


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_a_domain_module_imports_only_the_standard_library_and_the_event_model(
    path: Path,
) -> None:
    outside = sorted(m for m in imported_modules(path) if not is_allowed(m))

    assert outside == []


def test_the_check_would_catch_a_framework_import() -> None:
    assert not is_allowed("fastapi")
    assert not is_allowed("sqlalchemy.engine")
    assert not is_allowed("eventsourcing.persistence")
    assert not is_allowed("projections.tables")
    assert not is_allowed("app.settings")
