"""docs/tutorials.md runs as written: every ```python and ```bash block, in order, in one fresh
folder (python blocks share one namespace; bash blocks run through the shell with this
interpreter's ``dialoggraph`` first on the PATH)."""
import os
import re
import shutil
import subprocess
import sys

import pytest

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs")
BLOCK = re.compile(r"^```(python|bash)\n(.*?)^```", re.S | re.M)


def blocks(page: str) -> list[tuple[str, str]]:
    with open(os.path.join(DOCS, page), encoding="utf-8") as f:
        return BLOCK.findall(f.read())


def test_the_page_has_code_to_run():
    kinds = [kind for kind, _ in blocks("tutorials.md")]
    assert kinds.count("python") >= 3 and kinds.count("bash") >= 4


def test_tutorials_run_as_written(tmp_path, monkeypatch):
    for tool in ("espeak-ng", "ffmpeg"):        # tutorial 4 records its own conversations
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    monkeypatch.chdir(tmp_path)
    os.symlink(os.path.join(DOCS, "..", "examples"), tmp_path / "examples")
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1"}
    namespace: dict = {"__name__": "tutorial"}
    for number, (kind, code) in enumerate(blocks("tutorials.md"), 1):
        if kind == "python":
            exec(compile(code, f"tutorials.md block {number}", "exec"), namespace)
        else:
            done = subprocess.run(["bash", "-e", "-c", code], env=env, capture_output=True, text=True)
            if done.returncode:
                pytest.fail(f"tutorials.md block {number} failed:\n{code}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    assert (tmp_path / "report" / "report.html").exists() and (tmp_path / "predictions.csv").exists()
    assert (tmp_path / "runs" / "tune-mlp" / "best.yaml").exists()
    assert (tmp_path / "raw" / "report" / "report.html").exists()
    assert (tmp_path / "runs" / "reproduce" / "amb_dsgdn-iemocap" / "reproduce.json").exists()
