"""fracview's label-issue ranking against cleanlab's, on the same held-out probabilities.

1. Copies a YOLO dataset (images linked, label files rewritten) with a seeded `--fraction` of its labelled cases
   flipped to another class (every line of the label file gets the new class, so the case's class changes).
2. Runs `fracview audit COPY --label-issues --json` with the given weights: its ranking, and the held-out
   probabilities it ranked on (cases a fold member trained on are judged by the members that did not).
3. Gives the same probabilities and labels to cleanlab's `find_label_issues` (ranked by self-confidence); cases it
   does not flag follow, by cleanlab's `get_label_quality_scores`.
4. Reports, for finding the flipped cases: AUROC and precision at k = the number flipped, for both.
Cases every member has seen in training are left out of both rankings.

    python3 training/label_noise_check.py --data $D --fracview .build/release/fracview [--subset 400] [--json]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import data  # noqa: E402


def auroc(score, positive):
    score, positive = np.asarray(score, float), np.asarray(positive, bool)
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    # Average ranks for ties.
    s = score[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos = positive.sum()
    n_neg = len(score) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def make_noisy_copy(root, out, fraction, seed, subset=0):
    ds = data.load(root)
    labelled = [c for c in ds.cases if c.label is not None]
    rng = random.Random(seed)
    if subset and subset < len(labelled):
        labelled = sorted(rng.sample(labelled, subset), key=lambda c: c.path)
    flipped = {}
    for c in rng.sample(labelled, round(fraction * len(labelled))):
        flipped[c.path] = rng.choice([k for k in range(len(ds.names)) if k != c.label])
    with open(os.path.join(root, "data.yaml")) as f:
        yaml_text = f.read()
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "data.yaml"), "w") as f:
        f.write(yaml_text)
    for c in labelled:
        img_dst = os.path.join(out, c.path)
        os.makedirs(os.path.dirname(img_dst), exist_ok=True)
        os.symlink(os.path.abspath(os.path.join(root, c.path)), img_dst)
        lab_src, lab_dst = os.path.join(root, data.label_path_for(c.path)), os.path.join(out, data.label_path_for(c.path))
        os.makedirs(os.path.dirname(lab_dst), exist_ok=True)
        with open(lab_src) as f:
            lines = [ln.split() for ln in f if ln.split()]
        if c.path in flipped:
            lines = [[str(flipped[c.path])] + ln[1:] for ln in lines]
        with open(lab_dst, "w") as f:
            f.write("".join(" ".join(ln) + "\n" for ln in lines))
    return ds.names, flipped


def run(root, fracview, weights=None, fraction=0.1, seed=0, subset=0):
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "noisy")
        names, flipped = make_noisy_copy(root, copy, fraction, seed, subset)
        cmd = [fracview, "audit", copy, "--label-issues", "--json"] + (["--weights", weights] if weights else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    rows = [r for r in rows if not r["seen_in_training"]]
    rows.sort(key=lambda r: r["image"])
    labels = np.array([names.index(r["given"]) for r in rows])
    probs = np.array([r["probabilities"] for r in rows], dtype=float)
    probs /= probs.sum(1, keepdims=True)
    truth = np.array([r["image"] in flipped for r in rows])
    k = int(truth.sum())
    fv_score = np.array([r["score"] for r in rows])
    fv_top = np.argsort(-fv_score, kind="mergesort")[:k]
    issues = list(find_label_issues(labels, probs, return_indices_ranked_by="self_confidence"))
    quality = get_label_quality_scores(labels, probs)
    rest = [i for i in np.argsort(quality, kind="mergesort") if i not in set(issues)]
    cl_order = issues + rest
    cl_score = np.empty(len(rows))
    cl_score[np.array(cl_order)] = np.arange(len(rows), 0, -1)
    return {
        "cases": len(rows), "flipped": k, "fraction": fraction, "seed": seed,
        "fracview": {"auroc": auroc(fv_score, truth), "precision_at_k": float(truth[fv_top].mean()),
                     "flagged": int(sum(r["flagged"] for r in rows))},
        "cleanlab": {"auroc": auroc(cl_score, truth), "precision_at_k": float(truth[np.array(cl_order[:k])].mean()),
                     "flagged": len(issues)},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--fracview", required=True)
    ap.add_argument("--weights")
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--subset", type=int, default=0, help="use a seeded subset of N labelled cases")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    r = run(a.data, a.fracview, a.weights, a.fraction, a.seed, a.subset)
    if a.json:
        print(json.dumps(r))
        return
    print(f"{r['cases']} held-out labelled cases, {r['flipped']} labels flipped (seed {r['seed']})")
    for name in ("fracview", "cleanlab"):
        m = r[name]
        print(f"  {name:9s} AUROC {m['auroc']:.3f}  precision@{r['flipped']} {m['precision_at_k']:.3f}  flagged {m['flagged']}")


if __name__ == "__main__":
    main()
