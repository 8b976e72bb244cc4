"""benchmarks/results_table.py end to end on a tiny synthetic set: a ``MODEL@TAG`` run is its own row and
its own run in the comparison."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_a_tagged_run_is_a_row_and_a_compared_run_of_its_own(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "results_table.py"), "--out", str(tmp_path),
                           "--label", "tiny", "--models", "mlp", "mlp@wide", "--flags", "mlp@wide=--hidden 32",
                           "--seeds", "0", "1", "--", "--dataset", "synthetic", "--num-dialogues", "24",
                           "--epochs", "1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = (tmp_path / "results.md").read_text().splitlines()
    assert [r.split(" | ")[1] for r in rows[2:]] == ["per-utterance MLP", "per-utterance MLP (wide)"]
    compared = (tmp_path / "compare" / "compare.md").read_text()
    assert "| per-utterance MLP (wide) | 2 |" in compared
