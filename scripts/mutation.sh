#!/usr/bin/env bash
# Mutation testing of the equations: mutmut (config in setup.cfg [mutmut]) mutates every
# function of dialoggraph/nn and dialoggraph/models and runs the tests that cover it.
# usage: scripts/mutation.sh [GLOB]   e.g. "dialoggraph.nn.fusion.*"  (default: everything)
# Writes mutants/summary.txt (score per file) and mutants/survivors.txt (every surviving diff).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1      # one thread per test process: oversubscribed threads spin
mutmut run --max-children "${MUTMUT_CHILDREN:-2}" ${1:+"$1"} > mutants.log 2>&1 || true
mutmut results --all true > mutants/results.txt 2>/dev/null
python scripts/mutation_summary.py
