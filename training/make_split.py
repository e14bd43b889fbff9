"""Writes a deterministic grouped split (CSV path,split): every Roboflow source (file-name prefix before `.rf.`)
lands in one split only; stratified by class so every class reaches test where it has ≥ 3 groups.

    python3 training/make_split.py /work/shared/datasets/hbfmid training/splits/hbfmid-prefix-grouped.csv
"""
import argparse
import collections
import os
import random
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import data  # noqa: E402


def grouped_split(ds, test_frac, valid_frac, seed):
    groups = collections.defaultdict(list)
    for c in ds.cases:
        groups[data.source_group(c.path)].append(c)
    by_class = collections.defaultdict(list)
    for g, cs in sorted(groups.items()):
        labels = [c.label for c in cs if c.label is not None]
        key = collections.Counter(labels).most_common(1)[0][0] if labels else -1
        by_class[key].append(g)
    rng = random.Random(seed)
    assign = {}
    for key in sorted(by_class):
        gs = by_class[key]
        rng.shuffle(gs)
        n = len(gs)
        n_test = max(1, round(n * test_frac)) if n >= 3 else 0
        n_valid = max(1, round(n * valid_frac)) if n >= 3 else 0
        for i, g in enumerate(gs):
            assign[g] = "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
    return [(c.path, assign[data.source_group(c.path)]) for c in ds.cases]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("out")
    ap.add_argument("--test-frac", type=float, default=64 / 1539)
    ap.add_argument("--valid-frac", type=float, default=128 / 1539)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args(argv)
    ds = data.load(a.root)
    rows = grouped_split(ds, a.test_frac, a.valid_frac, a.seed)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("path,split\n")
        for p, s in sorted(rows):
            f.write(f"{p},{s}\n")
    cnt = collections.Counter(s for _, s in rows)
    print(f"wrote {a.out}: " + ", ".join(f"{k} {cnt[k]}" for k in data.SPLITS))


if __name__ == "__main__":
    main()
