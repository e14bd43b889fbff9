"""Prints RESULTS.md table rows from run directories (summary.json + preds-test.json).

    python3 training/results_table.py training/runs/lite0-grouped training/runs/b4-grouped ...
"""
import json
import os
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import evaluate  # noqa: E402


def main(argv=None):
    dirs = (argv if argv is not None else sys.argv[1:])
    print("| run | split | epochs run (best) | train images | train time | test n | accuracy (95 % CI) | "
          "macro-F1 | critical errors | val acc |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    details = []
    for d in dirs:
        with open(os.path.join(d, "summary.json")) as f:
            s = json.load(f)
        with open(os.path.join(d, "preds-test.json")) as f:
            e = evaluate.score(json.load(f))
        lo, hi = e["accuracy_ci95"]
        print(f"| {os.path.basename(d)} | {s['split']} | {s['epochs_run']} ({s['best_epoch']}) | {s['train_images']} | "
              f"{s['train_seconds'] / 60:.0f} min | {e['n']} | {e['accuracy']:.3f} ({lo:.3f}–{hi:.3f}) | "
              f"{e['macro_f1']:.3f} | {e['critical_errors']} | {s['val_accuracy']:.3f} |")
        details.append((os.path.basename(d), s, e))
    print()
    for name, s, e in details:
        print(f"**{name}** — `{s['command']}`  ")
        print("recall: " + ", ".join(f"{k} {v:.2f}" for k, v in e["recall"].items()) +
              f"; critical: {e['critical_detail']}\n")


if __name__ == "__main__":
    main()
