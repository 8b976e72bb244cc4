"""The table of ``scripts/gpu_check.sh``: its folder's results as one Markdown page and one JSON file.

    python benchmarks/gpu_table.py OUT [--seconds S]

Reads ``OUT/card.json``, ``OUT/cuda_suite.xml`` (the CUDA suite's JUnit report), the
``OUT/vs_original_*.json`` rows of ``benchmarks/vs_original.py`` and ``OUT/memory.json`` of
``benchmarks/long_dialogue_memory.py``; writes ``OUT/gpu_check.md`` and ``OUT/gpu_check.json``. A part
that did not run is said so in its section.
"""
from __future__ import annotations

import argparse
import json
import os
import xml.etree.ElementTree as ElementTree


def read_json(path: str):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def suite(path: str) -> dict | None:
    """Counts of the JUnit report: tests, failures, errors, skipped."""
    if not os.path.exists(path):
        return None
    root = ElementTree.parse(path).getroot()
    node = root if root.tag == "testsuite" else root.find("testsuite")
    failed = [case.get("name") for case in node.iter("testcase")
              if case.find("failure") is not None or case.find("error") is not None]
    return {k: int(node.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")} | {"failed": failed}


def comparison_rows(folder: str) -> list[dict]:
    rows = []
    for variant in ("32", "bf16", "compiled"):
        for row in read_json(os.path.join(folder, f"vs_original_{variant}.json")) or []:
            rows.append({"variant": variant, **row})
    return rows


def markdown(result: dict) -> str:
    card = result["card"] or {}
    lines = [f"# dialoggraph on {card.get('card', 'an unknown GPU')}", "",
             f"{card.get('memory_gib', '?')} GiB, torch {card.get('torch', '?')}, CUDA {card.get('cuda', '?')}"
             + (f"; the check took {result['seconds']} s" if result.get("seconds") else ""), "", "## CUDA suite", ""]
    s = result["suite"]
    lines.append("did not run" if s is None else
                 f"{s['tests']} tests: {s['tests'] - s['failures'] - s['errors'] - s['skipped']} passed, "
                 f"{s['failures'] + s['errors']} failed, {s['skipped']} skipped"
                 + (f" (failed: {', '.join(s['failed'])})" if s["failed"] else ""))
    lines += ["", "## Training and inference steps against the authors' code", ""]
    if not result["comparison"]:
        lines.append("not run (no checkouts of the authors' code)")
    else:
        lines += ["| model | shape | step | precision | ours ms | theirs ms | theirs / ours | ours / floor | "
                  "compiled ms | peak MiB ours / theirs |", "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r in result["comparison"]:
            peak = (f"{r['ours_peak_mib']:.0f} / {r['theirs_peak_mib']:.0f}"
                    if r.get("ours_peak_mib") is not None and r.get("theirs_peak_mib") is not None else "")
            compiled = f"{r['compiled_ms']:.2f}" if "compiled_ms" in r else ""
            lines.append(f"| {r['model']} | {r['shape']} | {r['step']} | {r['variant']} | {r['ours_ms']:.2f} | "
                         f"{r['theirs_ms']:.2f} | {r['theirs_over_ours']:.2f}x | {r['ours_over_floor']:.2f}x | "
                         f"{compiled} | {peak} |")
    lines += ["", "## Peak GPU memory, one training step on one dialogue of 2,000 utterances", ""]
    if not result["memory"]:
        lines.append("not run")
    else:
        lines += ["| model | step MiB | seconds |", "| --- | ---: | ---: |"]
        lines += [f"| {r['model']} | {r['step_mb']:.0f} | {r['seconds']:.2f} |" if "step_mb" in r else
                  f"| {r['model']} | failed (exit {r['failed']}) | |" for r in result["memory"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--seconds", type=int)
    args = parser.parse_args()
    result = {"card": read_json(os.path.join(args.folder, "card.json")),
              "suite": suite(os.path.join(args.folder, "cuda_suite.xml")),
              "comparison": comparison_rows(args.folder), "memory": read_json(os.path.join(args.folder, "memory.json")),
              "seconds": args.seconds}
    with open(os.path.join(args.folder, "gpu_check.json"), "w") as f:
        json.dump(result, f, indent=1)
    text = markdown(result)
    with open(os.path.join(args.folder, "gpu_check.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
