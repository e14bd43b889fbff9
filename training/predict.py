"""Runs a weights file (.safetensors) over one split and writes preds JSON for evaluate.py; with --compare it
also reports how far another weights file's predictions are (used to check that F16 changes nothing).

    python3 training/predict.py weights/fracture-classifier.safetensors --data /work/shared/datasets/hbfmid \
        --split-manifest training/splits/hbfmid-grouped.csv --split test --out preds.json --compare f32.safetensors
"""
import argparse
import json
import os
import sys

import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import data, images  # noqa: E402
from training.export_weights import load_exported  # noqa: E402
from training.train import predict  # noqa: E402


def run(weights, x_uint8):
    model, meta = load_exported(weights)
    return predict(model, x_uint8, mean=json.loads(meta["mean"]), std=json.loads(meta["std"])), meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights")
    ap.add_argument("--data", required=True)
    ap.add_argument("--split-manifest")
    ap.add_argument("--split", default="test", choices=data.SPLITS)
    ap.add_argument("--out")
    ap.add_argument("--compare", help="second weights file: report max |Δp| and changed predictions")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    ds = data.load(a.data, a.split_manifest)
    cases = ds.split(a.split)
    x = images.load_images(a.data, [c.path for c in cases])
    p, meta = run(a.weights, x)
    y = torch.tensor([c.label for c in cases])
    print(f"{a.weights}: {a.split} accuracy {(p.argmax(1) == y).float().mean():.4f} on {len(cases)}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"classes": json.loads(meta["classes"]), "paths": [c.path for c in cases],
                       "labels": y.tolist(), "probabilities": p.tolist()}, f)
    if a.compare:
        q, _ = run(a.compare, x)
        print(f"vs {a.compare}: max |Δp| {(p - q).abs().max():.2e}, "
              f"changed predictions {(p.argmax(1) != q.argmax(1)).sum().item()}/{len(cases)}, "
              f"accuracy {(q.argmax(1) == y).float().mean():.4f}")


if __name__ == "__main__":
    main()
