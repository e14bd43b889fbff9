"""Prints RESULTS.md table rows from run directories (summary.json + preds-test.json), or with --cv the
out-of-fold table from training/cv.py directories (cv-summary.json).

    python3 training/results_table.py training/runs/lite0-grouped training/runs/b4-grouped ...
    python3 training/results_table.py --cv runs/cv/a-frozen runs/cv/c-384 ...
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




def cv_rows(dirs):
    """RESULTS.md's out-of-fold table from training/cv.py output directories (cv-summary.json)."""
    print("| row | OOF accuracy (95 % group CI) | macro-F1 (95 % group CI) | with flip TTA: acc / macro-F1 | critical errors | "
          "ECE → after OOF temperature | pointing game (strict) | CAM mass in boxes | training loops / wall (5 folds) |")
    print("|---|---|---|---|---|---|---|---|---|")
    details = []
    for d in dirs:
        with open(os.path.join(d, "cv-summary.json")) as f:
            s = json.load(f)
        e, t = s["score"], s["score_hflip_tta"]
        (alo, ahi), (flo, fhi) = e["accuracy_ci95"], e["macro_f1_ci95"]
        print(f"| {s['row']} | {e['accuracy']:.3f} ({alo:.3f}–{ahi:.3f}) | {e['macro_f1']:.3f} ({flo:.3f}–{fhi:.3f}) | "
              f"{t['accuracy']:.3f} / {t['macro_f1']:.3f} | {e['critical_errors']} | {e['ece']:.3f} → "
              f"{e['ece_temperature_oof']:.3f} | {e['pointing_game']:.3f} ({e['pointing_game_strict']:.3f}) | "
              f"{e['cam_mass_in_boxes']:.3f} | {s['train_seconds'] / 60:.0f} / {s['wall_seconds'] / 60:.0f} min |")
        details.append(s)
    print()
    for s in details:
        e = s["score"]
        print(f"**{s['row']}** — `{s['command']}`  ")
        print("recall: " + ", ".join(f"{k} {v:.2f}" for k, v in e["recall"].items()) +
              f"; critical: {e['critical_detail']}\n")


def selection_estimate(dirs):
    """How optimistic is choosing a row by its OOF macro-F1? For each fold f, pick the row with the best macro-F1 on
    the other folds' out-of-fold predictions, and score that row's predictions on fold f; pool the picks. (The other
    folds' predictions come from models that trained on f, so this is not fully nested: f's labels reach the choice
    only through training, never through the score that picks.)"""
    import numpy as np
    recs = {}
    for d in dirs:
        with open(os.path.join(d, "oof.json")) as f:
            recs[os.path.basename(d.rstrip("/"))] = json.load(f)
    first = next(iter(recs.values()))
    folds = sorted(set(first["folds"]))
    picked = {"classes": first["classes"], "labels": [], "probabilities": [], "groups": [], "paths": []}
    choices = []
    for f in folds:
        def f1_without(rec):
            idx = [i for i, k in enumerate(rec["folds"]) if k != f]
            y = np.array([rec["labels"][i] for i in idx])
            p = np.array([rec["probabilities"][i] for i in idx]).argmax(1)
            return evaluate.macro_f1(evaluate.confusion(y, p, len(rec["classes"])))
        best = max(recs, key=lambda r: (f1_without(recs[r]), r))
        choices.append(best)
        rec = recs[best]
        for i, k in enumerate(rec["folds"]):
            if k == f:
                for key in ("labels", "probabilities", "groups", "paths"):
                    picked[key].append(rec[key][i])
    e = evaluate.score(picked)
    (alo, ahi), (flo, fhi) = e["accuracy_ci95"], e["macro_f1_ci95"]
    print(f"selection among {', '.join(recs)}: per fold {choices}")
    print(f"selection-aware estimate: accuracy {e['accuracy']:.3f} ({alo:.3f}–{ahi:.3f}), macro-F1 {e['macro_f1']:.3f} "
          f"({flo:.3f}–{fhi:.3f}), {e['ci_method']}, n={e['n']}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--cv":
        cv_rows(args[1:])
    elif args and args[0] == "--selection":
        selection_estimate(args[1:])
    else:
        main(args)
