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


def test_every_public_block_helper_and_model_is_documented():
    """Each public class and function defined in ``dialoggraph.nn`` and each registered model (the
    floors included) shows a runnable example on its API page; every layer (``torch.nn.Module``)
    and model also documents its arguments and its shapes."""
    import dialoggraph.nn
    from dialoggraph.models import MODELS
    missing = []
    for info in pkgutil.walk_packages(dialoggraph.nn.__path__, "dialoggraph.nn."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)) \
                    or obj.__module__ != module.__name__:
                continue
            doc = obj.__doc__ or ""
            missing += [f"{info.name}.{name}: example"] if ">>>" not in doc else []
            if inspect.isclass(obj) and issubclass(obj, torch.nn.Module):
                takes_arguments = "__init__" in vars(obj) and len(inspect.signature(obj.__init__).parameters) > 1
                missing += [f"{info.name}.{name}: Args"] if takes_arguments and "Args:" not in doc else []
                missing += [f"{info.name}.{name}: Shapes"] if "Shapes:" not in doc else []
    for name, cls in MODELS.items():
        missing += [f"{name}: {part}" for part in (">>>", "Args:", "Shapes:") if part not in (cls.__doc__ or "")]
    assert not missing


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    torch.manual_seed(0)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0 and result.attempted > 0
