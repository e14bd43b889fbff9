"""The frozen-probe crop classifier (issue #27, RESULTS.md "Next"): a linear probe on the pooled features of the
frozen ImageNet Lite0 backbone, on the crop around a box, out of fold on the grouped folds.

Per fold k (the folds manifest's groups):
- training: the probe (standardised features, logistic regression, class-balanced, C = 0.05 as in issue #27's
  table) fits the crops around the label boxes of every image outside fold k, the exact crop and `--views - 1`
  jittered ones (training/crops.py);
- test: the images of fold k, cropped around the fold-k localiser's top box (localise.py's out-of-fold boxes; the
  whole image when it found none). No label box of fold k is used, and the localiser never saw fold k.

Rows written under --out (one oof.json each, training/evaluate.py's format):
- probe-whole: the same probe on the whole X-ray (the issue's 0.238 row, for reference);
- probe-crop: the probe on the predicted crop;
- probe-fusion: the mean of b-full's out-of-fold probabilities (--whole) and probe-crop's;
- oracle-probe-crop: the probe on the label-box crop at test time: a ceiling, never a result.

    python3 training/probe_crops.py --data $D --boxes training/results/oof-localiser-l320.json \\
        --whole training/results/oof-shipped.json --out runs/probe [--export weights/fracture-classifier]

With --export DIR, each fold's probe is written as a crop classifier member `crop-fold-K.safetensors`: a
FractureClassifier in the notebook's format that computes exactly the probe (`probe_member`), with metadata
`role` = classifier, `input` = crop, its fold and the training signatures of the images its probe fitted.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import crops, evaluate, folds, images  # noqa: E402  (images imports training.tv first)
from training.model import CLASSES, MEAN, STD, FractureClassifier  # noqa: E402
from training.oof import read_boxes  # noqa: E402
from training.pretrained import load_backbone_imagenet  # noqa: E402
from training.localiser import yolo_to_corners  # noqa: E402
from training import signatures  # noqa: E402

MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "splits", "hbfmid-folds.csv")
C = 0.05


@torch.no_grad()
def pooled_features(model, x_uint8, bs=64):
    """N × C: the mean over the last feature map of the frozen backbone (what the notebook head pools when its gate
    is open everywhere)."""
    out = []
    for i in range(0, len(x_uint8), bs):
        x = images.normalize(x_uint8[i:i + bs], MEAN, STD).contiguous(memory_format=torch.channels_last)
        out.append(model.base_model.features(x).mean((2, 3)))
    return torch.cat(out).numpy()


def fit_probe(x, y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, class_weight="balanced", max_iter=3000))
    return probe.fit(x, y)


def full_probabilities(probe, x, n_classes):
    """predict_proba with a column for every class (a class absent from the training rows gets 0)."""
    p = np.zeros((len(x), n_classes))
    p[:, probe.classes_] = probe.predict_proba(x)
    return p


def probe_member(backbone_state, probe, n_classes):
    """A FractureClassifier whose output is the probe's: the attention gate open everywhere (its last bias +30, so
    sigmoid = 1 in float32 and the pooled features are the plain mean), the standardisation folded into the first
    Linear, and the MLP made linear: rows W and -W, BatchNorm the identity, ReLU, then z = relu(z) - relu(-z)."""
    scaler, lr = probe.named_steps["standardscaler"], probe.named_steps["logisticregression"]
    assert list(lr.classes_) == list(range(n_classes)), "every class must be in the probe's training rows"
    w = lr.coef_ / scaler.scale_[None, :]                       # n × C
    b = lr.intercept_ - w @ scaler.mean_                         # n
    model = FractureClassifier("efficientnet_lite0", n_classes)
    model.base_model.load_state_dict(backbone_state)
    hidden = model.classifier[1].out_features
    assert hidden >= 2 * n_classes
    with torch.no_grad():
        for p in model.attention_gate.parameters():
            p.zero_()
        model.attention_gate[2].bias.fill_(30.0)
        fc1, bn, fc2 = model.classifier[1], model.classifier[2], model.classifier[4]
        fc1.weight.zero_(); fc1.bias.zero_()
        fc1.weight[:n_classes] = torch.from_numpy(w).float()
        fc1.weight[n_classes:2 * n_classes] = -torch.from_numpy(w).float()
        fc1.bias[:n_classes] = torch.from_numpy(b).float()
        fc1.bias[n_classes:2 * n_classes] = -torch.from_numpy(b).float()
        bn.weight.fill_(1.0); bn.bias.zero_(); bn.running_mean.zero_(); bn.running_var.fill_(1.0 - bn.eps)
        fc2.weight.zero_(); fc2.bias.zero_()
        for j in range(n_classes):
            fc2.weight[j, j] = 1.0
            fc2.weight[j, n_classes + j] = -1.0
    return model.eval()


def export_members(out_dir, probes, model, x_check, feats_check, rels, fold_of, data_root, args):
    """One crop member per fold (see the module docstring), checked against its probe on a few crops."""
    from safetensors.torch import save_file
    from training.export_weights import git_commit
    backbone_state = model.base_model.state_dict()
    for k, probe in sorted(probes.items()):
        member = probe_member(backbone_state, probe, len(CLASSES))
        with torch.no_grad():
            logits, _ = member(images.normalize(x_check, MEAN, STD))
        want = probe.predict_proba(feats_check)
        got = torch.softmax(logits.double(), 1).numpy()
        assert np.abs(got - want).max() < 1e-4, f"fold {k}: member and probe disagree by {np.abs(got - want).max()}"
        seen = [r for r, f in zip(rels, fold_of) if f != k]
        tensors = {}
        for name, t in member.state_dict().items():
            if name.endswith("num_batches_tracked") or name.startswith("base_model.classifier."):
                continue
            # The backbone as the shipped classifiers store theirs (F16); the head, which is the probe, in F32.
            tensors[name] = t.detach().to(torch.float16 if name.startswith("base_model.") else torch.float32).contiguous()
        meta = {
            "role": "classifier", "input": "crop", "crop_pad": repr(crops.PAD), "crop_min_side": repr(crops.MIN_SIDE),
            "architecture": "efficientnet_lite0", "bn_eps": "0.001", "classes": json.dumps(CLASSES),
            "input_size": json.dumps([224, 224]), "mean": json.dumps(MEAN), "std": json.dumps(STD),
            "fold": str(k), "folds_manifest": json.dumps({"name": os.path.basename(args.folds_manifest),
                                                          "sha256": folds.sha256(args.folds_manifest)}),
            "training_signatures": signatures.metadata_value([os.path.join(data_root, r) for r in seen]),
            "training_images": str(len(seen)), "recipe": "probe-crop",
            "probe": f"frozen ImageNet Lite0, pooled features, standardised, logistic regression C={C} class-balanced, "
                     f"{args.views} label-box crops per image (1 exact, {args.views - 1} jittered)",
            "trained_on": "HBFMID (Mendeley Data DOI 10.17632/xwfs6xbk47.1), grouped 5-fold cross-validation",
            "split": os.path.basename(args.folds_manifest), "git_commit": git_commit(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        path = os.path.join(out_dir, f"crop-fold-{k}.safetensors")
        save_file(tensors, path, metadata=meta)
        print(f"wrote {path}: {os.path.getsize(path) / 1e6:.1f} MB, {len(seen)} training images", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--boxes", required=True, help="localise.py's out-of-fold boxes (oof-boxes.json)")
    ap.add_argument("--whole", required=True, help="b-full's out-of-fold probabilities (oof.json format)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--folds-manifest", default=MANIFEST)
    ap.add_argument("--views", type=int, default=5, help="training crops per image: the exact one and jittered ones")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export", metavar="DIR", help="also write each fold's probe as a crop classifier member")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    t0 = time.time()
    rows = folds.read(a.folds_manifest)
    rels = [r["path"] for r in rows]
    labels = np.array([CLASSES.index(r["class"]) for r in rows])
    fold_of = np.array([int(r["fold"]) for r in rows])
    groups = [r["group"] for r in rows]
    with open(a.boxes) as f:
        loc = json.load(f)
    predicted = dict(zip(loc["paths"], loc["pred_boxes"]))
    label_boxes = [[yolo_to_corners(b) for b in read_boxes(a.data, r)] for r in rels]
    cache = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", "cache")

    model = FractureClassifier("efficientnet_lite0", len(CLASSES))
    load_backbone_imagenet(model, "efficientnet_lite0")
    model.eval().to(memory_format=torch.channels_last)
    whole = pooled_features(model, images.load_images(a.data, rels, cache, (224, 224)))
    print(f"whole-image features {whole.shape} ({time.time() - t0:.0f}s)", flush=True)
    train_views = crops.load_crop_views(a.data, rels, label_boxes, a.views, a.seed, cache_dir=cache)
    train_feats = np.stack([pooled_features(model, train_views[v]) for v in range(a.views)])
    del train_views
    print(f"label-box crop features {train_feats.shape} ({time.time() - t0:.0f}s)", flush=True)
    top = [[predicted[r][0][:4]] if predicted.get(r) else [] for r in rels]
    pred_feats = pooled_features(model, crops.load_crop_views(a.data, rels, top, 1, a.seed, cache_dir=cache)[0])
    print(f"predicted-crop features {pred_feats.shape} ({time.time() - t0:.0f}s)", flush=True)

    n_classes = len(CLASSES)
    probs = {name: np.zeros((len(rels), n_classes)) for name in ("probe-whole", "probe-crop", "oracle-probe-crop")}
    probes = {}
    for k in sorted(set(fold_of)):
        tr, te = np.where(fold_of != k)[0], np.where(fold_of == k)[0]
        probe = fit_probe(train_feats[:, tr].reshape(-1, train_feats.shape[-1]), np.tile(labels[tr], a.views))
        probes[int(k)] = probe
        probs["probe-crop"][te] = full_probabilities(probe, pred_feats[te], n_classes)
        probs["oracle-probe-crop"][te] = full_probabilities(probe, train_feats[0, te], n_classes)
        probs["probe-whole"][te] = full_probabilities(fit_probe(whole[tr], labels[tr]), whole[te], n_classes)
        print(f"fold {k}: {len(tr)} training images × {a.views} crops, {len(te)} test ({time.time() - t0:.0f}s)", flush=True)
    with open(a.whole) as f:
        shipped = json.load(f)
    index = {p: i for i, p in enumerate(shipped["paths"])}
    order = [index[r] for r in rels]
    probs["probe-fusion"] = (np.asarray(shipped["probabilities"])[order] + probs["probe-crop"]) / 2
    os.makedirs(a.out, exist_ok=True)
    command = "python3 training/probe_crops.py " + " ".join(sys.argv[1:] if argv is None else argv)
    for name, p in probs.items():
        rec = {"classes": CLASSES, "paths": rels, "labels": labels.tolist(), "groups": groups,
               "folds": fold_of.tolist(), "probabilities": p.tolist(), "command": command}
        os.makedirs(os.path.join(a.out, name), exist_ok=True)
        with open(os.path.join(a.out, name, "oof.json"), "w") as f:
            json.dump(rec, f)
        e = evaluate.score(rec)
        (alo, ahi), (flo, fhi) = e["accuracy_ci95"], e["macro_f1_ci95"]
        print(f"{name}: accuracy {e['accuracy']:.3f} ({alo:.3f}–{ahi:.3f}), macro-F1 {e['macro_f1']:.3f} "
              f"({flo:.3f}–{fhi:.3f}), critical {e['critical_errors']}, ECE {e['ece']:.3f} → "
              f"{e['ece_temperature_oof']:.3f}; recall " + ", ".join(f"{c} {v:.2f}" for c, v in e["recall"].items()),
              flush=True)
    if a.export:
        check = crops.load_crop_views(a.data, rels[:8], top[:8], 1, a.seed)[0]
        export_members(a.export, probes, model, check, pred_feats[:8], rels, fold_of, a.data, a)
    print(f"done in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
