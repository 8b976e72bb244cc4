#!/usr/bin/env bash
# The library on a GPU, in one command (meant to take under eight minutes; not yet timed on a GPU):
# the CUDA suite, then the training and inference steps of AMB-DSGDN and DAG-ERC against the authors' code at MELD and
# IEMOCAP shape (float32, bf16, compiled), and each model's peak GPU memory for one dialogue of
# 2,000 utterances; one table, OUT/gpu_check.md and OUT/gpu_check.json.
#
#   AUTHORS=authors OUT=gpu_check bash scripts/gpu_check.sh
#
# AUTHORS holds checkouts of github wys-ljq/AMB-DSGDN and shenwzh3/DAG-ERC (docs/testing.md); without
# them the comparison rows are skipped, with a note. Needs the CUDA build of torch.
set -uo pipefail
cd "$(dirname "$0")/.."
AUTHORS=${AUTHORS:-authors}
OUT=${OUT:-gpu_check}
mkdir -p "$OUT"
python - > "$OUT/card.json" <<'PY'
import json, torch
assert torch.cuda.is_available(), "torch sees no CUDA GPU"
p = torch.cuda.get_device_properties(0)
print(json.dumps({"card": p.name, "memory_gib": round(p.total_memory / 2 ** 30, 1), "torch": torch.__version__,
                  "cuda": torch.version.cuda}))
PY
[ $? -eq 0 ] || { echo "gpu_check: no CUDA GPU visible to torch" >&2; exit 2; }
start=$(date +%s)
# 1. The CUDA suite: every model on the device (float32, bf16, fp16, compiled, DDP over nccl), the
#    layers' references, the model contract.
DIALOGGRAPH_TEST_DEVICE=cuda timeout 300 python -m pytest -q -p no:cacheprovider tests/test_on_device.py tests/models/test_contract.py tests/nn/conv \
    --junitxml "$OUT/cuda_suite.xml" > "$OUT/cuda_suite.txt" 2>&1
echo "cuda suite: exit $? ($(tail -1 "$OUT/cuda_suite.txt"))"
# 2. Against the authors' code.
if [ -d "$AUTHORS/AMB-DSGDN" ] && [ -d "$AUTHORS/DAG-ERC" ]; then
    for precision in 32 bf16; do
        timeout 120 python benchmarks/vs_original.py --amb-dsgdn "$AUTHORS/AMB-DSGDN" --dag-erc "$AUTHORS/DAG-ERC" \
            --device cuda --precision "$precision" --rounds 10 --memory --json "$OUT/vs_original_$precision.json" \
            > "$OUT/vs_original_$precision.txt" 2>&1 || echo "vs_original $precision: exit $?"
    done
    timeout 180 python benchmarks/vs_original.py --amb-dsgdn "$AUTHORS/AMB-DSGDN" --dag-erc "$AUTHORS/DAG-ERC" \
        --device cuda --compile --rounds 10 --json "$OUT/vs_original_compiled.json" \
        > "$OUT/vs_original_compiled.txt" 2>&1 || echo "vs_original compiled: exit $?"
fi
# 3. Peak GPU memory of one training step on one dialogue of 2,000 utterances, per model.
timeout 120 python benchmarks/long_dialogue_memory.py --device cuda --lengths 2000 --json "$OUT/memory.json" \
    > "$OUT/memory.txt" 2>&1 || echo "memory: exit $?"
python benchmarks/gpu_table.py "$OUT" --seconds $(( $(date +%s) - start ))
