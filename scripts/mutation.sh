#!/usr/bin/env bash
# Mutation testing of the equations: mutmut (config in setup.cfg [mutmut]) mutates every
# function of dialoggraph/nn and dialoggraph/models and runs the tests that cover it.
# usage: scripts/mutation.sh [GLOB]   e.g. "dialoggraph.nn.fusion.*"  (default: everything)
# Writes mutants/summary.txt (score per file) and mutants/survivors.txt (every surviving diff).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1      # one thread per test process: oversubscribed threads spin
mutmut run --max-children "${MUTMUT_CHILDREN:-2}" ${1:+"$1"} > mutants.log 2>&1 || true
mutmut results --all true > mutants/results.txt 2>/dev/null || mutmut results > mutants/results.txt
python - <<'PY'
import collections, re, subprocess
counts = collections.defaultdict(collections.Counter)
survivors = []
for line in open("mutants/results.txt"):
    m = re.match(r"\s*(\S+__mutmut_\d+): (\S+)", line)
    if not m:
        continue
    name, status = m.groups()
    module = name.split(".x")[0].rsplit(".", 1)[0] if ".x" in name else name.rsplit(".", 1)[0]
    counts[module][status] += 1
    if status == "survived":
        survivors.append(name)
with open("mutants/summary.txt", "w") as out:
    total = collections.Counter()
    for module in sorted(counts):
        c = counts[module]
        total.update(c)
        n = sum(c.values())
        out.write(f"{module:60s} {n:5d} mutants  killed {c['killed']:5d}  survived {c['survived']:4d}  "
                  f"other {n - c['killed'] - c['survived']:4d}\n")
    n = sum(total.values())
    out.write(f"{'TOTAL':60s} {n:5d} mutants  killed {total['killed']:5d}  survived {total['survived']:4d}  "
              f"score {100 * total['killed'] / max(1, total['killed'] + total['survived']):.1f}%\n")
with open("mutants/survivors.txt", "w") as out:
    for name in survivors:
        out.write(subprocess.run(["mutmut", "show", name], capture_output=True, text=True).stdout + "\n")
print(open("mutants/summary.txt").read())
PY
