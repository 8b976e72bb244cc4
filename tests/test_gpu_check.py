"""scripts/gpu_check.sh's parts that run without a GPU: the memory benchmark's rows (on CPU here)
and the table built from a results folder."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_memory_benchmark_writes_its_rows(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "long_dialogue_memory.py"), "--models", "mlp",
                           "--lengths", "40", "--json", str(tmp_path / "memory.json")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads((tmp_path / "memory.json").read_text())
    assert rows[0]["model"] == "mlp" and rows[0]["length"] == 40 and rows[0]["device"] == "cpu" and rows[0]["seconds"] > 0


def test_the_table_says_what_ran_and_what_did_not(tmp_path):
    (tmp_path / "card.json").write_text(json.dumps({"card": "NVIDIA H100", "memory_gib": 79.6, "torch": "2.13.0",
                                                    "cuda": "12.8"}))
    (tmp_path / "cuda_suite.xml").write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="0">'
        '<testcase name="a"/><testcase name="b"/><testcase name="c"><failure/></testcase></testsuite></testsuites>')
    row = {"model": "AMB-DSGDN", "shape": "MELD", "step": "train", "ours_ms": 5.0, "theirs_ms": 20.0,
           "theirs_over_ours": 4.0, "ours_over_floor": 1.5, "ours_peak_mib": 100.0, "theirs_peak_mib": 900.0}
    (tmp_path / "vs_original_32.json").write_text(json.dumps([row]))
    (tmp_path / "memory.json").write_text(json.dumps([{"model": "mfcre", "length": 2000, "step_mb": 812.0,
                                                       "seconds": 0.4}, {"model": "lfvd", "failed": 1}]))
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_table.py"), str(tmp_path), "--seconds", "421"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "gpu_check.md").read_text()
    assert page.startswith("# dialoggraph on NVIDIA H100") and "took 421 s" in page
    assert "3 tests: 2 passed, 1 failed, 0 skipped (failed: c)" in page
    assert "| AMB-DSGDN | MELD | train | 32 | 5.00 | 20.00 | 4.00x | 1.50x |  | 100 / 900 |" in page
    assert "| mfcre | 812 | 0.40 |" in page and "| lfvd | failed (exit 1) | |" in page
    assert json.loads((tmp_path / "gpu_check.json").read_text())["suite"]["failures"] == 1
