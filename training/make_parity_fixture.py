"""Writes Tests/Fixtures/parity/shipped-probabilities.json: PyTorch's probabilities for a shipped weights file (by
default the first member of the fold ensemble) on the 64 bundled test images (PIL open → RGB → Resize to the
model's input_size → ToTensor → Normalize), for the Swift parity test.

    python3 training/make_parity_fixture.py [--weights weights/fracture-classifier/fold-0.safetensors]
"""
import argparse
import hashlib
import json
import os
import sys

import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import data, images  # noqa: E402
from training.export_weights import load_exported  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=os.path.join(REPO, "weights", "fracture-classifier", "fold-0.safetensors"))
    ap.add_argument("--images", default=os.path.join(REPO, "samples", "hbfmid-test", "test", "images"))
    ap.add_argument("--out", default=os.path.join(REPO, "Tests", "Fixtures", "parity", "shipped-probabilities.json"))
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    model, meta = load_exported(a.weights)
    mean, std = json.loads(meta["mean"]), json.loads(meta["std"])
    size = tuple(json.loads(meta.get("input_size", "[224, 224]")))
    with open(a.weights, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    probs = {}
    for fn in sorted(os.listdir(a.images)):
        if not fn.lower().endswith(data.IMAGE_EXTS):
            continue
        path = os.path.join(a.images, fn)
        x = images.normalize(images.load_image(path, size)[None], mean, std)
        with torch.no_grad():
            p = torch.softmax(model(x)[0].double(), 1)[0]
        probs[os.path.relpath(path, REPO)] = [float(v) for v in p]
    doc = {
        "weights": os.path.relpath(a.weights, REPO),
        "weights_sha256": sha,
        "classes": json.loads(meta["classes"]),
        "paths_relative_to": "repository root",
        "tolerance": 1e-3,
        "probabilities": probs,
        # top-1 minus top-2 probability: where it is below 2·tolerance the predicted class may legitimately
        # differ between two implementations that each agree within the tolerance.
        "top2_margin": {k: sorted(v)[-1] - sorted(v)[-2] for k, v in probs.items()},
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"wrote {a.out}: {len(probs)} images, weights sha256 {sha[:12]}")


if __name__ == "__main__":
    main()
