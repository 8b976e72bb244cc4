"""The ``Example:`` sections of the docstrings run as written (doctest), so the API reference's
examples cannot drift from the code."""
import doctest
import importlib
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


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    torch.manual_seed(0)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0 and result.attempted > 0
