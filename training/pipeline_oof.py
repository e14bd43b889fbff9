"""Scores the localiser pipeline out-of-fold: the crop classifier of fold k (cv.py crop-full) on the crops around the
fold-k localiser's boxes for the images of fold k (localise.py's oof-boxes.json), which neither model saw.

Writes one oof.json per variant (evaluate.py's format) under --out, and prints its score:
- `p-crop`: the crop around the localiser's top box (an image with no box is classified whole, and counted);
- `p-fusion`: the mean of the whole-image probabilities (--whole, e.g. the shipped b-full members' OOF file) and
  p-crop's;
- `oracle-crop`: the crop around the label boxes. Label boxes are not there at test time: this row is a ceiling,
  never a result, and it is never offered to the selection.

    python3 training/pipeline_oof.py --data $D --boxes runs/loc/l-320/oof-boxes.json --crop-runs runs/cv/crop-full \
        --whole training/results/oof-shipped.json --out runs/pipe
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import crops, evaluate, images  # noqa: E402
from training.model import MEAN, STD  # noqa: E402
from training.oof import load_run  # noqa: E402


@torch.no_grad()
def classify(model, im, boxes, size):
    """Probabilities for the crop around each box of `boxes` (None: the whole image), from one opened RGB image."""
    x = torch.stack([crops.cut(im, (0, 0, im.width, im.height) if box is None else crops.crop_box(box, im.width, im.height), size)
                     for box in boxes])
    logits, _ = model(images.normalize(x, MEAN, STD))
    return torch.softmax(logits.double(), 1).tolist()


def summary_line(name, e):
    (alo, ahi), (flo, fhi) = e["accuracy_ci95"], e["macro_f1_ci95"]
    recall = ", ".join(f"{k} {v:.2f}" for k, v in e["recall"].items())
    return (f"{name}: n={e['n']} accuracy {e['accuracy']:.3f} ({alo:.3f}–{ahi:.3f}) macro-F1 {e['macro_f1']:.3f} "
            f"({flo:.3f}–{fhi:.3f}) critical {e['critical_errors']} {e['critical_detail']} ECE {e['ece']:.3f} → "
            f"{e.get('ece_temperature_oof', float('nan')):.3f} after OOF T\n  recall: {recall}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--boxes", required=True, help="localise.py's oof-boxes.json")
    ap.add_argument("--crop-runs", required=True, help="the crop classifier's cv.py --out (fold-K/best.pt)")
    ap.add_argument("--whole", required=True, help="whole-image OOF predictions (oof.py's format) for the fusion")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    with open(a.boxes) as f:
        boxes = json.load(f)
    with open(a.whole) as f:
        whole = json.load(f)
    whole_of = dict(zip(whole["paths"], whole["probabilities"]))
    variants = {name: {"classes": boxes["classes"], "paths": [], "labels": [], "groups": [], "folds": [],
                       "probabilities": []} for name in ("p-crop", "p-fusion", "oracle-crop")}
    no_box = 0
    for k in sorted(set(boxes["folds"])):
        model, meta = load_run(os.path.join(a.crop_runs, f"fold-{k}"))
        size = tuple(meta.get("input_size", [224, 224]))[::-1]
        for i, fold in enumerate(boxes["folds"]):
            if fold != k:
                continue
            rel = boxes["paths"][i]
            pred = boxes["pred_boxes"][i]
            no_box += not pred
            labels = boxes["label_boxes"][i]
            with Image.open(os.path.join(a.data, rel)) as im:
                p_crop, p_oracle = classify(model, im.convert("RGB"), [pred[0][:4] if pred else None,
                                                                       crops.union(labels) if labels else None], size)
            p_whole = whole_of[rel]
            for name, p in (("p-crop", p_crop), ("oracle-crop", p_oracle),
                            ("p-fusion", [(u + v) / 2 for u, v in zip(p_crop, p_whole)])):
                rec = variants[name]
                rec["paths"].append(rel)
                rec["labels"].append(boxes["labels"][i])
                rec["groups"].append(boxes["groups"][i])
                rec["folds"].append(k)
                rec["probabilities"].append(p)
        print(f"fold {k} done", flush=True)
    print(f"images with no predicted box (classified whole): {no_box}")
    for name, rec in variants.items():
        d = os.path.join(a.out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "oof.json"), "w") as f:
            json.dump(rec, f)
        e = evaluate.score(rec)
        with open(os.path.join(d, "score.json"), "w") as f:
            json.dump({k: v for k, v in e.items() if k != "confusion"}, f, indent=1)
        print(summary_line(name + (" (ORACLE: label boxes at test time; a ceiling, not a result)" if name == "oracle-crop" else ""), e))


if __name__ == "__main__":
    main()
