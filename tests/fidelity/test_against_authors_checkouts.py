"""The library's blocks against the authors' released modules themselves, imported from local
checkouts (benchmarks/fidelity.py). Runs when ``DIALOGGRAPH_AUTHORS_CODE`` names the folder of
checkouts; CI has no network to fetch them and keeps the independent ports in
test_authors_code.py."""
import importlib.util
import os
import sys
from pathlib import Path

import pytest

AUTHORS = os.environ.get("DIALOGGRAPH_AUTHORS_CODE")
pytestmark = pytest.mark.skipif(not AUTHORS, reason="DIALOGGRAPH_AUTHORS_CODE names no folder of the authors' code")


def fidelity():
    benchmarks = Path(__file__).parents[2] / "benchmarks"
    sys.path.insert(0, str(benchmarks))                   # it imports its neighbours (common, vs_original)
    path = benchmarks / "fidelity.py"
    spec = importlib.util.spec_from_file_location("fidelity_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                       # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_every_checked_out_block_equals_the_authors_module():
    rows = [row for row in fidelity().compare(AUTHORS) if row.status != "not run"]
    assert rows, f"no authors' checkout under {AUTHORS}"
    differing = [f"{row.block} vs {row.authors}: {row.forward} / {row.gradient} {row.note}"
                 for row in rows if row.status == "DIFFERS"]
    assert not differing, differing
