"""Scores a run's predictions (preds-test.json from train.py, or any {classes, paths, labels, probabilities}).

Accuracy, macro-F1 (sklearn convention: over the classes that occur in the labels or the predictions),
per-class recall (classes present in the labels), confusion matrix, the critical errors
(Comminuted→Transverse Displaced, Transverse Displaced→Healthy) and a seeded percentile bootstrap 95 % CI
on accuracy.

    python3 training/evaluate.py training/runs/lite0-grouped/preds-test.json [--json]
"""
import argparse
import json
import sys

import numpy as np

CRITICAL = [("Comminuted", "Transverse Displaced"), ("Transverse Displaced", "Healthy")]


def confusion(y, p, n):
    m = np.zeros((n, n), dtype=int)
    np.add.at(m, (y, p), 1)
    return m


def macro_f1(m):
    """Over the classes that occur in the labels or the predictions of confusion matrix m."""
    n = len(m)
    used = [c for c in range(n) if m[c].sum() > 0 or m[:, c].sum() > 0]
    f1s = []
    for c in used:
        tp = m[c, c]
        prec = tp / m[:, c].sum() if m[:, c].sum() else 0.0
        rec = tp / m[c].sum() if m[c].sum() else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def bootstrap_ci(correct, n_boot=2000, seed=0, level=0.95):
    rng = np.random.default_rng(seed)
    correct = np.asarray(correct, dtype=float)
    idx = rng.integers(0, len(correct), size=(n_boot, len(correct)))
    accs = correct[idx].mean(1)
    lo, hi = np.quantile(accs, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def score(rec, n_boot=2000, seed=0):
    names = rec["classes"]
    n = len(names)
    y = np.asarray(rec["labels"], dtype=int)
    probs = np.asarray(rec["probabilities"], dtype=float)
    p = probs.argmax(1)
    m = confusion(y, p, n)
    crit = {f"{a}→{b}": int(m[names.index(a), names.index(b)]) for a, b in CRITICAL}
    return {
        "n": int(len(y)),
        "accuracy": float((p == y).mean()),
        "accuracy_ci95": bootstrap_ci(p == y, n_boot, seed),
        "macro_f1": macro_f1(m),
        "recall": {names[c]: float(m[c, c] / m[c].sum()) for c in range(n) if m[c].sum()},
        "critical_errors": sum(crit.values()),
        "critical_detail": crit,
        "confusion": m.tolist(),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("preds", nargs="+")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    for path in a.preds:
        with open(path) as f:
            s = score(json.load(f), a.bootstrap, a.seed)
        if a.json:
            print(json.dumps({"preds": path, **s}))
            continue
        lo, hi = s["accuracy_ci95"]
        print(f"{path}: n={s['n']} accuracy {s['accuracy']:.3f} (95% CI {lo:.3f}–{hi:.3f})  "
              f"macro-F1 {s['macro_f1']:.3f}  critical errors {s['critical_errors']} {s['critical_detail']}")
        print("  recall: " + ", ".join(f"{k} {v:.2f}" for k, v in s["recall"].items()))


if __name__ == "__main__":
    sys.exit(main())
