"""Trains the fracture localiser (training/localiser.py) out-of-fold and scores its boxes.

For fold k of the folds manifest, a localiser trains on the other folds (15 % of their groups held out for choosing
the epoch, as train.py does) and predicts the boxes of fold k. The pooled out-of-fold boxes go to <out>/oof-boxes.json
and are scored with group-bootstrap CIs: the hit rate (the top box overlaps a label box with IoU ≥ 0.3), the top
box's centre in a label box, and AP50 over all boxes.

CPU budget: features[:K] keep their ImageNet weights and are computed once for every image and view (views: the
image, its three flips, and random square crops whose geometry is known, so each view's boxes are exact); only
features[K:] and the head train.

    python3 training/localise.py --data $D --out runs/loc/l-384 [--folds 0,1] [--input-size 384] [--freeze-until 6]
"""
import argparse
import json
import os
import sys
import time
import zlib

import numpy as np
import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import folds, images, localiser  # noqa: E402
from training.export_weights import git_commit  # noqa: E402
from training.model import CLASSES, MEAN, STD  # noqa: E402
from training.oof import read_boxes  # noqa: E402
from training.pretrained import load_backbone_imagenet  # noqa: E402
from training.train import crop_resize  # noqa: E402

MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "splits", "hbfmid-folds.csv")


def view_geometry(rel, v, seed):
    """View v of an image: (window [x0, y0, x1, y1] normalised, hflip, vflip). Views 0–3 are the whole image and its
    flips; from 4 on, a random square window of side 0.55–1.0 with a random flip, seeded by (seed, path, v)."""
    if v < 4:
        return (0.0, 0.0, 1.0, 1.0), bool(v & 1), bool(v & 2)
    rng = np.random.default_rng(zlib.crc32(f"{seed}|{rel}|loc{v}".encode()))
    side = rng.uniform(0.55, 1.0)
    x0, y0 = rng.uniform(0, 1 - side), rng.uniform(0, 1 - side)
    return (x0, y0, x0 + side, y0 + side), bool(rng.integers(2)), bool(rng.integers(2))


def view_boxes(boxes, geometry):
    """The label boxes ([x0, y0, x1, y1]) as seen in a view: clipped to its window, in its coordinates, flipped;
    a box whose centre falls outside the window is dropped."""
    (wx0, wy0, wx1, wy1), hf, vf = geometry
    out = []
    for x0, y0, x1, y1 in boxes:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if not (wx0 <= cx < wx1 and wy0 <= cy < wy1):
            continue
        b = [(max(x0, wx0) - wx0) / (wx1 - wx0), (max(y0, wy0) - wy0) / (wy1 - wy0),
             (min(x1, wx1) - wx0) / (wx1 - wx0), (min(y1, wy1) - wy0) / (wy1 - wy0)]
        if hf:
            b = [1 - b[2], b[1], 1 - b[0], b[3]]
        if vf:
            b = [b[0], 1 - b[3], b[2], 1 - b[1]]
        out.append(b)
    return out


def view_image(img, geometry):
    window, hf, vf = geometry
    x = img if window == (0.0, 0.0, 1.0, 1.0) else crop_resize(img, window)
    if hf:
        x = x.flip(-1)
    if vf:
        x = x.flip(-2)
    return x


@torch.no_grad()
def front_features(model, x_uint8, rels, k, views, seed, bs=32):
    """views × N × C × h × w (float16) outputs of features[:k] for every image and view."""
    model.eval()
    front = model.base_model.features[:k]
    out = None
    for v in range(views):
        for i in range(0, len(rels), bs):
            xs = torch.stack([view_image(x_uint8[j], view_geometry(rels[j], v, seed)) for j in range(i, min(i + bs, len(rels)))])
            f = front(images.normalize(xs, MEAN, STD).contiguous(memory_format=torch.channels_last)).half()
            if out is None:
                out = torch.empty(views, len(rels), *f.shape[1:], dtype=torch.float16)
            out[v, i:i + len(xs)] = f
        print(f"front features: view {v + 1}/{views}", flush=True)
    return out


@torch.no_grad()
def predict_boxes(model, feats, k, bs=64):
    model.eval()
    boxes = []
    for i in range(0, len(feats), bs):
        boxes += localiser.decode(model.forward_from(feats[i:i + bs].float().contiguous(memory_format=torch.channels_last), k))
    return boxes


def group_ci(values, groups, n_boot=2000, seed=0):
    rng = np.random.default_rng(seed)
    values = np.asarray(values, dtype=float)
    names, inverse = np.unique(np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(names))]
    stats = [values[np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])].mean()
             for _ in range(n_boot)]
    lo, hi = np.quantile(stats, [0.025, 0.975])
    return float(lo), float(hi)


def group_ap_ci(preds, labels, groups, n_boot=500, seed=0):
    rng = np.random.default_rng(seed)
    names, inverse = np.unique(np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(names))]
    stats = []
    for _ in range(n_boot):
        idx = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
        stats.append(localiser.average_precision([preds[i] for i in idx], [labels[i] for i in idx]))
    lo, hi = np.quantile(stats, [0.025, 0.975])
    return float(lo), float(hi)


def score(rec):
    """Hit rate (IoU ≥ 0.3), centre-in-box and AP50 with group-bootstrap CIs; per class, and Healthy's top scores."""
    preds, labels, groups = rec["pred_boxes"], rec["label_boxes"], rec["groups"]
    hits = [localiser.hit(p, t) for p, t in zip(preds, labels)]
    centres = [localiser.centre_in_box(p, t) for p, t in zip(preds, labels)]
    out = {"n": len(preds), "groups": len(set(groups)),
           "hit_rate": float(np.mean(hits)), "hit_rate_ci95": group_ci(hits, groups),
           "centre_in_box": float(np.mean(centres)), "centre_in_box_ci95": group_ci(centres, groups),
           "ap50": localiser.average_precision(preds, labels), "ap50_ci95": group_ap_ci(preds, labels, groups),
           "hit_rate_by_class": {}}
    for c, name in enumerate(rec["classes"]):
        sel = [i for i, y in enumerate(rec["labels"]) if y == c]
        if sel:
            out["hit_rate_by_class"][name] = round(float(np.mean([hits[i] for i in sel])), 3)
    healthy = rec["classes"].index("Healthy") if "Healthy" in rec["classes"] else None
    top = [p[0][4] if p else 0.0 for p in preds]
    if healthy is not None:
        for key, keep in (("top_score_mean_healthy", True), ("top_score_mean_fractured", False)):
            scores = [top[i] for i, y in enumerate(rec["labels"]) if (y == healthy) == keep]
            out[key] = float(np.mean(scores)) if scores else None
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--folds-manifest", default=MANIFEST)
    ap.add_argument("--folds", help="comma-separated fold indices (default: all)")
    ap.add_argument("--arch", default="efficientnet_lite0")
    ap.add_argument("--input-size", type=int, default=384)
    ap.add_argument("--freeze-until", type=int, default=6)
    ap.add_argument("--crop-views", type=int, default=4, help="random-crop views per image, besides the 4 flips")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-images", type=int, default=0, help="smoke tests: the first N images of the manifest")
    ap.add_argument("--no-cache", action="store_true", help="do not keep the resized images under training/runs/cache")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    rows = folds.read(a.folds_manifest)
    if a.max_images:
        rows = rows[:a.max_images]
    classes = CLASSES
    rels = [r["path"] for r in rows]
    label_boxes = [[localiser.yolo_to_corners(b) for b in read_boxes(a.data, r)] for r in rels]
    t0 = time.time()
    size = (a.input_size, a.input_size)
    cache_dir = None if a.max_images or a.no_cache else os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", "cache")
    x = images.load_images(a.data, rels, cache_dir, size)
    views = 4 + a.crop_views
    probe = localiser.FractureLocaliser(a.arch)
    load_backbone_imagenet(probe, a.arch)
    probe.to(memory_format=torch.channels_last)
    feats = front_features(probe, x, rels, a.freeze_until, views, a.seed)
    print(f"front features {tuple(feats.shape)} in {time.time() - t0:.0f}s", flush=True)
    g = a.input_size // 32
    view_targets = [[localiser.targets(view_boxes(label_boxes[i], view_geometry(rels[i], v, a.seed)), g)
                     for i in range(len(rels))] for v in range(views)]
    k_all = folds.fold_count(rows)
    ks = [int(k) for k in a.folds.split(",")] if a.folds else list(range(k_all))
    pred_of = {}
    for k in ks:
        split = folds.fold_split(rows, k)
        tr = [i for i, r in enumerate(rels) if split[r] == "train"]
        va = [i for i, r in enumerate(rels) if split[r] == "valid"]
        te = [i for i, r in enumerate(rels) if split[r] == "test"]
        model = localiser.FractureLocaliser(a.arch)
        model.load_state_dict(probe.state_dict())
        for p in model.base_model.features[:a.freeze_until].parameters():
            p.requires_grad_(False)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=a.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
        gen = torch.Generator().manual_seed(a.seed + k)
        best, best_epoch, best_state = -1.0, 0, None
        run = os.path.join(a.out, f"fold-{k}")
        os.makedirs(run, exist_ok=True)
        for epoch in range(1, a.epochs + 1):
            te0 = time.time()
            model.train()
            model.base_model.features[:a.freeze_until].eval()
            perm = torch.randperm(len(tr), generator=gen)
            vsel = torch.randint(0, views, (len(tr),), generator=gen)
            total = 0.0
            for s in range(0, len(perm), a.batch_size):
                idx = perm[s:s + a.batch_size]
                if len(idx) < 2:
                    continue
                ii = [tr[j] for j in idx.tolist()]
                vv = vsel[idx].tolist()
                xb = feats[vv, ii].float().contiguous(memory_format=torch.channels_last)
                out = model.forward_from(xb, a.freeze_until)
                loss = localiser.loss(out, [view_targets[v][i] for v, i in zip(vv, ii)])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                total += loss.item() * len(idx)
            sched.step()
            pv = predict_boxes(model, feats[0, va], a.freeze_until)
            val_hit = float(np.mean([localiser.hit(p, label_boxes[i]) for p, i in zip(pv, va)]))
            improved = val_hit > best
            if improved:
                best, best_epoch = val_hit, epoch
                best_state = {n: t.detach().clone() for n, t in model.state_dict().items()}
            print(f"fold {k} epoch {epoch:2d} loss {total / len(tr):.4f} val_hit {val_hit:.3f} "
                  f"time {time.time() - te0:.0f}s{'  *best' if improved else ''}", flush=True)
        model.load_state_dict(best_state)
        meta = {"role": "localiser", "architecture": a.arch, "fold": k, "input_size": [a.input_size, a.input_size],
                "best_epoch": best_epoch, "val_hit_rate": best, "git_commit": git_commit(), "args": vars(a),
                "folds_manifest": {"name": os.path.basename(a.folds_manifest), "sha256": folds.sha256(a.folds_manifest)},
                "trained_on": sorted(r for r in rels if split[r] in ("train", "valid"))}
        torch.save({"state_dict": {n: t.cpu() for n, t in best_state.items()}, "meta": meta}, os.path.join(run, "best.pt"))
        for p, i in zip(predict_boxes(model, feats[0, te], a.freeze_until), te):
            pred_of[i] = p
        print(f"fold {k} done: best epoch {best_epoch}, val hit {best:.3f} ({time.time() - t0:.0f}s)", flush=True)
    done = sorted(pred_of)
    rec = {"classes": classes, "input_size": a.input_size, "paths": [rels[i] for i in done],
           "groups": [rows[i]["group"] for i in done], "folds": [rows[i]["fold"] for i in done],
           "labels": [classes.index(rows[i]["class"]) for i in done],
           "label_boxes": [label_boxes[i] for i in done], "pred_boxes": [pred_of[i] for i in done]}
    with open(os.path.join(a.out, "oof-boxes.json"), "w") as f:
        json.dump(rec, f)
    result = score(rec)
    result.update({"command": "python3 training/localise.py " + " ".join(sys.argv[1:] if argv is None else argv),
                   "wall_seconds": round(time.time() - t0), "folds": ks})
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
