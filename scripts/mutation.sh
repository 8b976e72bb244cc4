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

def category(diff: str) -> str:
    """A first sort of a surviving mutant by what its diff touches (the docs list the rest one by one)."""
    removed = [l[1:] for l in diff.splitlines() if l.startswith("-") and not l.startswith("---")]
    added = [l[1:] for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    text = " ".join(removed + added)
    if "XX" in text or any(k in text for k in ("raise ", "Error(", "f\"", "warn(")) and \
            re.sub(r'"[^"]*"', '""', " ".join(removed)) == re.sub(r'"[^"]*"', '""', " ".join(added)):
        return "message text"
    if "device=" in text or "dtype=" in text:
        return "device/dtype argument"
    if any(l.lstrip().startswith("def ") for l in removed):
        return "default argument value"
    if re.search(r"dim=(None|\+1)|squeeze\(\+1\)|\bdim=\S", " ".join(added)) and "dim=" in " ".join(removed):
        return "dimension argument (check: equivalent on 2-D tensors)"
    return "to review"

counts = collections.defaultdict(collections.Counter)
kinds = collections.Counter()
survivors = []
for line in open("mutants/results.txt"):
    m = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
    if not m:
        continue
    name, status = m.group(1), m.group(2).strip()
    module = name.split(".x")[0] if ".x" in name else name.rsplit(".", 1)[0]
    counts[module][status] += 1
    if status == "survived":
        diff = subprocess.run(["mutmut", "show", name], capture_output=True, text=True).stdout
        kind = category(diff)
        kinds[kind] += 1
        survivors.append((kind, name, diff))
with open("mutants/summary.txt", "w") as out:
    total = collections.Counter()
    for module in sorted(counts):
        c = counts[module]
        total.update(c)
        out.write(f"{module:55s} killed {c['killed']:5d}  survived {c['survived']:4d}  "
                  f"other {sum(c.values()) - c['killed'] - c['survived']:4d}\n")
    score = 100 * total["killed"] / max(1, total["killed"] + total["survived"])
    out.write(f"{'TOTAL':55s} killed {total['killed']:5d}  survived {total['survived']:4d}  score {score:.1f}%\n")
    for kind, n in kinds.most_common():
        out.write(f"survivors, {kind}: {n}\n")
with open("mutants/survivors.txt", "w") as out:
    for kind, name, diff in sorted(survivors):
        out.write(f"[{kind}] {diff}\n")
print(open("mutants/summary.txt").read())
PY
