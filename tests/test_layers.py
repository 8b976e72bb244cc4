"""The package's layers import downwards only (docs/index.md, "Layout"): a module may import the
layers below its own, never one above."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "dialoggraph"
#: Each layer and the layers it must never import.
NEVER = {
    "data": ("graphs", "transforms", "datasets", "features", "nn", "models", "train", "analysis", "cli"),
    "graphs": ("transforms", "datasets", "features", "nn", "models", "train", "analysis", "cli"),
    "nn": ("models", "train", "analysis", "cli", "datasets", "features"),
    "models": ("train", "analysis", "cli"),
    "features": ("nn", "models", "train", "analysis", "cli"),
    "datasets": ("models", "train", "analysis", "cli"),
    "train": ("analysis", "cli"),
    "analysis": ("cli",),
}


def imported(path: Path) -> set[str]:
    """The dialoggraph layers a module imports (at module level or inside functions)."""
    layers = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
        for name in names:
            parts = name.split(".")
            if parts[0] == "dialoggraph" and len(parts) > 1:
                layers.add(parts[1])
    return layers


@pytest.mark.parametrize("layer", sorted(NEVER))
def test_a_layer_never_imports_the_layers_above_it(layer):
    wrong = {str(path.relative_to(PACKAGE)): sorted(imported(path) & set(NEVER[layer]))
             for path in (PACKAGE / layer).rglob("*.py")}
    assert not {k: v for k, v in wrong.items() if v}, wrong
