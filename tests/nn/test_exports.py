"""``dialoggraph.nn`` exports every public block, PyG style (``from torch_geometric.nn import GATConv``)."""
import importlib
import inspect
import pkgutil

import torch

import dialoggraph.nn


def test_every_public_block_is_exported_from_dialoggraph_nn():
    modules, listed = set(), set()
    for info in pkgutil.walk_packages(dialoggraph.nn.__path__, "dialoggraph.nn."):
        module = importlib.import_module(info.name)
        listed |= set(getattr(module, "__all__", ())) if info.ispkg else set()
        for name, value in vars(module).items():
            if not name.startswith("_") and inspect.isclass(value) and issubclass(value, torch.nn.Module) and \
                    value.__module__ == module.__name__:
                modules.add(name)
    missing = sorted((modules | listed) - set(dialoggraph.nn.__all__))
    assert missing == [], f"not exported from dialoggraph.nn: {missing}"
    assert len(modules) >= 30 and all(getattr(dialoggraph.nn, name) for name in dialoggraph.nn.__all__)
