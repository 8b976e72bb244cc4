"""Summarise a mutmut run: the score per module and the survivors, sorted by what they touch.

usage: python scripts/mutation_summary.py   (after `mutmut run`; scripts/mutation.sh calls it)
Reads mutants/results.txt (`mutmut results --all true`); writes mutants/summary.txt and
mutants/survivors.txt (each surviving diff under its category). The categories are a first
sort by pattern; "to review" is what no pattern explains, and docs/testing.md says what the
review found.
"""
import collections
import re
import subprocess

STRING = re.compile(r'"[^"]*"')


def changed_lines(diff: str) -> tuple[str, str]:
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return " ".join(removed), " ".join(added)


def category(diff: str) -> str:
    removed, added = changed_lines(diff)
    both = removed + " " + added
    if STRING.sub('""', removed) == STRING.sub('""', added):
        if removed.lower() == added.lower() and "einsum" in removed:
            return "einsum subscripts upper-cased (equivalent)"
        return "string literal (error or warning text, option name)"
    if removed.lstrip().startswith("def "):
        return "default argument value (callers in the library pass it)"
    if "device=" in both or "dtype=" in both or ".to(None)" in added:
        return "device/dtype argument (equivalent on one CPU device and dtype)"
    if re.search(r"dropout|Dropout|training", both):
        return "dropout / training flag (inactive in the eval-mode references)"
    if "stable=" in both:
        return "sort stability (sums over each segment do not depend on the order)"
    if re.search(r"(dim=|sum\(|mean\(|squeeze\(|unsqueeze\()(None|\+1|\))", added) and "-1" in removed:
        return "dimension -1 -> +1 / default on 2-D tensors (equivalent)"
    return "to review"


def main() -> None:
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    kinds: collections.Counter = collections.Counter()
    survivors = []
    for line in open("mutants/results.txt"):
        match = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
        if not match:
            continue
        name, status = match.group(1), match.group(2).strip()
        module = name.split(".x")[0] if ".x" in name else name.rsplit(".", 1)[0]
        counts[module][status] += 1
        if status == "survived":
            diff = subprocess.run(["mutmut", "show", name], capture_output=True, text=True).stdout
            kind = category(diff)
            kinds[kind] += 1
            survivors.append((kind, name, diff))
    total: collections.Counter = collections.Counter()
    with open("mutants/summary.txt", "w") as out:
        for module in sorted(counts):
            c = counts[module]
            total.update(c)
            other = sum(c.values()) - c["killed"] - c["survived"]
            out.write(f"{module:50s} killed {c['killed']:5d}  survived {c['survived']:4d}  other {other:3d}\n")
        score = 100 * total["killed"] / max(1, total["killed"] + total["survived"])
        out.write(f"{'TOTAL':50s} killed {total['killed']:5d}  survived {total['survived']:4d}  "
                  f"score {score:.1f}%\n")
        for kind, n in kinds.most_common():
            out.write(f"survivors, {kind}: {n}\n")
    with open("mutants/survivors.txt", "w") as out:
        for kind, name, diff in sorted(survivors):
            out.write(f"[{kind}] {diff}\n")
    print(open("mutants/summary.txt").read())


if __name__ == "__main__":
    main()
