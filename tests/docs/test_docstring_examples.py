"""The ``Example:`` sections of the docstrings run as written (doctest), so the API reference's
examples cannot drift from the code."""
import doctest
import importlib
import inspect
import pkgutil

import pytest
import torch

import dialoggraph

MODULES = sorted(m.name for m in pkgutil.walk_packages(dialoggraph.__path__, "dialoggraph.")
                 if not m.name.endswith("__main__"))
WITH_EXAMPLES = []
for name in MODULES:
    module = importlib.import_module(name)
    if doctest.DocTestFinder().find(module) and any(t.examples for t in doctest.DocTestFinder().find(module)):
        WITH_EXAMPLES.append(name)


def test_the_blocks_and_models_have_examples():
    for name in ("dialoggraph.nn.conv.diff_rgat_conv", "dialoggraph.nn.conv.dag_conv", "dialoggraph.models.amb_dsgdn",
                 "dialoggraph.models.dag_erc", "dialoggraph.models.mdget_mer", "dialoggraph.models.mfcre",
                 "dialoggraph.models.lfvd", "dialoggraph.models.cmgfe"):
        assert name in WITH_EXAMPLES


def test_every_public_block_helper_and_model_has_an_example():
    """Each public class and function defined in ``dialoggraph.nn`` and each registered model (the
    floors included) shows a runnable example on its API page."""
    import dialoggraph.nn
    from dialoggraph.models import MODELS
    missing = []
    for info in pkgutil.walk_packages(dialoggraph.nn.__path__, "dialoggraph.nn."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                    and obj.__module__ == module.__name__ and ">>>" not in (obj.__doc__ or "")):
                missing.append(f"{info.name}.{name}")
    missing += [name for name, cls in MODELS.items() if ">>>" not in (cls.__doc__ or "")]
    assert not missing


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    torch.manual_seed(0)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0 and result.attempted > 0
