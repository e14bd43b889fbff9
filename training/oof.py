"""Pools the out-of-fold predictions of a K-fold run into one file for evaluate.py.

For each fold's run directory (train.py --folds-manifest … --fold k), loads its best.pt and runs the full model
(fp32) on that fold's held-out images: the probabilities, the probabilities with a horizontal-flip test-time
augmentation (the mean of the image and its mirror), and the Grad-CAM of the predicted class at feature-map
resolution (the notebook's definition: spatial-mean gradients of features[-1], channel mean of
features×weights, ReLU, divided by max + 1e-6). The label file's boxes go with each image for the pointing game.

    python3 training/oof.py --data $D --folds-manifest training/splits/hbfmid-folds.csv \
        --runs runs/a/fold-0 … runs/a/fold-4 --out runs/a/oof.json
"""
import argparse
import json
import os
import sys

import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import data, folds, images  # noqa: E402
from training.model import FractureClassifier, MEAN, STD  # noqa: E402


def read_boxes(root: str, rel: str):
    """[[class, cx, cy, w, h], …] from the YOLO label file (normalised coordinates)."""
    out = []
    try:
        with open(os.path.join(root, data.label_path_for(rel))) as f:
            for line in f:
                tok = line.split()
                if len(tok) >= 5:
                    try:
                        out.append([int(tok[0])] + [float(t) for t in tok[1:5]])
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def load_run(run_dir: str):
    ckpt = torch.load(os.path.join(run_dir, "best.pt"), map_location="cpu", weights_only=False)
    meta = ckpt["meta"]
    model = FractureClassifier(meta["architecture"], len(meta["classes"]), meta.get("width_mult"),
                               meta.get("depth_mult"))
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), meta


def load_member(path):
    """An exported member as the PyTorch model (weights widened from F16 exactly as fracview widens them)."""
    from training.export_weights import load_exported
    model, meta = load_exported(path)
    return model, {"fold": int(meta["fold"]) if "fold" in meta else None, "classes": json.loads(meta["classes"]),
                   "input_size": json.loads(meta.get("input_size", "[224, 224]"))}


def forward_with_cam(model, x):
    """Probabilities, and the Grad-CAM of the predicted class (N×H×W), the head-only backward."""
    with torch.no_grad():
        f = model.base_model.features(x)
    f = f.detach().requires_grad_(True)
    a = model.attention_gate(f)
    logits = model.classifier(torch.nn.functional.adaptive_avg_pool2d(f * a, 1).flatten(1))
    pred = logits.argmax(1)
    logits.gather(1, pred[:, None]).sum().backward()
    w = f.grad.mean((2, 3), keepdim=True)
    cam = torch.relu((f * w).mean(1)).detach()
    cam = cam / (cam.flatten(1).max(1).values.view(-1, 1, 1) + 1e-6)
    return torch.softmax(logits.detach().double(), 1).float(), cam


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--folds-manifest", required=True)
    ap.add_argument("--runs", nargs="+", help="one run directory per fold (its best.pt)")
    ap.add_argument("--members", help="instead of --runs: a directory of exported fold members (fold-K.safetensors), "
                                      "e.g. weights/fracture-classifier: the shipped model exactly as fracview loads it")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    a = ap.parse_args(argv)
    if bool(a.runs) == bool(a.members):
        raise SystemExit("error: give --runs or --members")
    torch.set_num_threads(a.threads)
    rows = folds.read(a.folds_manifest)
    group_of = {r["path"]: r["group"] for r in rows}
    rec = {"classes": None, "paths": [], "labels": [], "groups": [], "folds": [], "probabilities": [],
           "probabilities_hflip_tta": [], "cams": [], "boxes": [], "folds_manifest": os.path.basename(a.folds_manifest),
           "folds_manifest_sha256": folds.sha256(a.folds_manifest), "runs": []}
    ds = data.load(a.data)
    label_of = {c.path: c.label for c in ds.cases}
    sources = a.runs or sorted(os.path.join(a.members, f) for f in os.listdir(a.members) if f.endswith(".safetensors"))
    for run in sources:
        model, meta = load_run(run) if a.runs else load_member(run)
        k = meta.get("fold")
        if k is None:
            raise SystemExit(f"error: {run}: best.pt has no fold (not a --folds-manifest run)")
        rec["classes"] = rec["classes"] or meta["classes"]
        rec["runs"].append({"source": os.path.relpath(run), "fold": k})
        paths = [r["path"] for r in rows if r["fold"] == k]
        size = tuple(meta.get("input_size") or (224, 224))
        x8 = images.load_images(a.data, paths, None, size)
        for i in range(0, len(paths), a.batch_size):
            xb = images.normalize(x8[i:i + a.batch_size], MEAN, STD)
            p, cam = forward_with_cam(model, xb)
            p_flip, _ = forward_with_cam(model, torch.flip(xb, dims=[3]))
            rec["probabilities"] += p.tolist()
            rec["probabilities_hflip_tta"] += ((p + p_flip) / 2).tolist()
            rec["cams"] += [c.tolist() for c in cam]
        for pth in paths:
            rec["paths"].append(pth)
            rec["labels"].append(label_of[pth])
            rec["groups"].append(group_of[pth])
            rec["folds"].append(k)
            rec["boxes"].append(read_boxes(a.data, pth))
        print(f"fold {k}: {len(paths)} images", flush=True)
    with open(a.out, "w") as f:
        json.dump(rec, f)
    print(f"wrote {a.out}: {len(rec['paths'])} out-of-fold predictions")


if __name__ == "__main__":
    main()
