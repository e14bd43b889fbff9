"""Converts a FractureClassifier checkpoint to fracview's weights file (one .safetensors, PyTorch names).

Accepts the notebook's best_model.pth (a plain state_dict, torchvision EfficientNet keys) or a training/train.py
checkpoint ({"state_dict", "meta"}). Lite checkpoints with lukemelas key names (`_conv_stem`, `_blocks.N…`)
are renamed to the torchvision layout the engine builds.

    python3 training/export_weights.py best_model.pth out.safetensors --arch efficientnet_b4 --dtype f16
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training.model import ARCHS, CLASSES, FractureClassifier, INPUT_SIZE, MEAN, STD, backbone_bn_eps  # noqa: E402
from training.lite import LITE_CONFIGS  # noqa: E402
from training.pretrained import lukemelas_to_torchvision  # noqa: E402
from training.localiser import FractureLocaliser  # noqa: E402

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
PROVENANCE = ("trained_on", "split", "epochs", "val_accuracy", "test_accuracy", "git_commit", "date")


def git_commit():
    """Short HEAD, with "+dirty" when training/ has uncommitted changes: the commit alone would not say
    which code produced a run."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=here).stdout.strip()
        if not head:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
                               capture_output=True, text=True, cwd=here).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


def normalise_keys(sd: dict, arch: str, width_mult=None, depth_mult=None) -> dict:
    """Drops the unused torchvision classifier and DataParallel prefixes; maps lukemelas lite names."""
    out = {}
    for k, v in sd.items():
        if k.startswith("module."):
            k = k[len("module."):]
        if k.startswith("base_model.classifier.") or k.startswith("base_model._fc."):
            continue
        out[k] = v
    if arch in LITE_CONFIGS and any(k.startswith("base_model._") for k in out):
        back = {k[len("base_model."):]: v for k, v in out.items() if k.startswith("base_model.")}
        mapped = lukemelas_to_torchvision(back, arch, width_mult, depth_mult)
        out = {k: v for k, v in out.items() if not k.startswith("base_model.")}
        out.update({"base_model." + k: v for k, v in mapped.items() if not k.startswith("_fc")})
    return out


def check_against_model(sd: dict, arch: str, n_classes: int, width_mult=None, depth_mult=None):
    """Every tensor of the architecture present with its shape; nothing extra (num_batches_tracked optional)."""
    ref = FractureClassifier(arch, n_classes, width_mult, depth_mult).state_dict()
    ref = {k: v for k, v in ref.items() if not k.startswith("base_model.classifier.")}
    for k, v in ref.items():
        if k not in sd:
            if k.endswith("num_batches_tracked"):
                continue
            raise SystemExit(f"error: {k} is missing from the checkpoint for {arch}")
        if tuple(sd[k].shape) != tuple(v.shape):
            raise SystemExit(f"error: {k} has shape {tuple(sd[k].shape)}, {arch} needs {tuple(v.shape)}")
    extra = sorted(set(sd) - set(ref))
    if extra:
        raise SystemExit(f"error: {extra[0]} is not part of {arch} (is --arch right?)")


def export(ckpt_path, out_path, arch=None, dtype="f32", classes=None, width_mult=None, depth_mult=None,
           extra_meta=None, keep_f32=()):
    from safetensors.torch import save_file
    obj = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    meta_in = {}
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        meta_in = obj.get("meta") or {}
        sd = obj["state_dict"]
    elif isinstance(obj, dict):
        sd = obj
    else:
        raise SystemExit(f"error: {ckpt_path}: not a state_dict or training checkpoint")
    arch = arch or meta_in.get("architecture") or "efficientnet_b4"
    if arch not in ARCHS:
        raise SystemExit(f"error: unknown architecture {arch}")
    width_mult = width_mult or meta_in.get("width_mult")
    depth_mult = depth_mult or meta_in.get("depth_mult")
    classes = classes or meta_in.get("classes") or CLASSES
    sd = normalise_keys(sd, arch, width_mult, depth_mult)
    check_against_model(sd, arch, len(classes), width_mult, depth_mult)
    tensors = {}
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            continue  # optional in the format; the engine does not need it
        keep = any(k == p or k.startswith(p.rstrip(".") + ".") for p in keep_f32)
        tensors[k] = v.detach().to(torch.float32 if keep else DTYPES[dtype]).contiguous()
    meta = {
        "architecture": arch,
        "classes": json.dumps(classes),
        "input_size": json.dumps(meta_in.get("input_size") or INPUT_SIZE),
        "mean": json.dumps(MEAN),
        "std": json.dumps(STD),
    }
    if backbone_bn_eps(arch) != 1e-5:
        meta["bn_eps"] = repr(backbone_bn_eps(arch))
    if width_mult:
        meta["width_mult"] = repr(float(width_mult))
    if depth_mult:
        meta["depth_mult"] = repr(float(depth_mult))
    prov = {
        "trained_on": meta_in.get("trained_on", "HBFMID (Mendeley Data DOI 10.17632/xwfs6xbk47.1)"),
        "split": meta_in.get("split", "unknown"),
        "epochs": meta_in.get("epochs_run", "unknown"),
        "val_accuracy": meta_in.get("val_accuracy", "unknown"),
        "test_accuracy": meta_in.get("test_accuracy", "unknown"),
        "git_commit": meta_in.get("git_commit") or git_commit(),  # the training code's, when recorded
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    prov.update(extra_meta or {})
    for k, v in prov.items():
        if v is not None:
            meta[k] = v if isinstance(v, str) else (f"{v:.4f}" if isinstance(v, float) else str(v))
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    save_file(tensors, out_path, metadata=meta)
    return meta, len(tensors)


def export_localiser(ckpt_path, out_path, data_root, dtype="f16"):
    """A training/localise.py fold checkpoint → a localiser member (docs/engine.md, "Pipelines"): the backbone and
    `box_head.{0,2}`, with `role` = localiser, its `fold`, `folds_manifest` and the `training_signatures` of the
    images it trained or early-stopped on."""
    import ast
    from safetensors.torch import save_file
    from training import signatures
    obj = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    meta_in, sd = obj["meta"], obj["state_dict"]
    if meta_in.get("role") != "localiser":
        raise SystemExit(f"error: {ckpt_path}: not a training/localise.py checkpoint (its meta has no role localiser)")
    arch = meta_in["architecture"]
    ref = FractureLocaliser(arch).state_dict()
    for k, v in ref.items():
        if k.endswith("num_batches_tracked"):
            continue
        if k not in sd or tuple(sd[k].shape) != tuple(v.shape):
            raise SystemExit(f"error: {k} is missing or misshapen in {ckpt_path}")
    tensors = {k: v.detach().to(DTYPES[dtype]).contiguous() for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    manifest = meta_in["folds_manifest"]
    if isinstance(manifest, str):
        manifest = ast.literal_eval(manifest)
    seen = meta_in["trained_on"]
    if isinstance(seen, str):
        seen = ast.literal_eval(seen)
    meta = {
        "role": "localiser",
        "architecture": arch,
        "input_size": json.dumps([int(v) for v in meta_in["input_size"]]),
        "mean": json.dumps(MEAN),
        "std": json.dumps(STD),
        "fold": str(int(meta_in["fold"])),
        "folds_manifest": json.dumps(manifest),
        "training_signatures": signatures.metadata_value([os.path.join(data_root, p) for p in seen]),
        "training_images": str(len(seen)),
        "trained_on": "HBFMID (Mendeley Data DOI 10.17632/xwfs6xbk47.1), grouped 5-fold cross-validation",
        "split": manifest["name"],
        "best_epoch": str(meta_in.get("best_epoch", "unknown")),
        "val_hit_rate": f"{float(meta_in.get('val_hit_rate', 'nan')):.4f}",
        "git_commit": str(meta_in.get("git_commit") or git_commit()),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if backbone_bn_eps(arch) != 1e-5:
        meta["bn_eps"] = repr(backbone_bn_eps(arch))
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    save_file(tensors, out_path, metadata=meta)
    return meta, len(tensors)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="best_model.pth (state_dict) or training/train.py best.pt")
    ap.add_argument("out", help="output .safetensors")
    ap.add_argument("--arch", choices=ARCHS, help="backbone (default: the checkpoint's, else efficientnet_b4)")
    ap.add_argument("--dtype", choices=list(DTYPES), default="f32")
    ap.add_argument("--keep-f32", action="append", default=[], metavar="PREFIX",
                    help="tensors under this name prefix stay F32 (mixed precision; repeatable)")
    ap.add_argument("--width-mult", type=float)
    ap.add_argument("--depth-mult", type=float)
    ap.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                    help="extra/overriding metadata, e.g. split=hbfmid-grouped")
    ap.add_argument("--fold-member", metavar="DATA",
                    help="the checkpoint is a train.py --fold run: add `fold`, `folds_manifest` and the "
                         "`training_signatures` of every image of its split.csv it trained or early-stopped on "
                         "(paths under DATA, the dataset root)")
    ap.add_argument("--localiser", metavar="DATA",
                    help="the checkpoint is a training/localise.py fold run: write a localiser member, with the "
                         "training signatures of the images under DATA it saw")
    a = ap.parse_args(argv)
    if a.localiser:
        meta, n = export_localiser(a.checkpoint, a.out, a.localiser, a.dtype)
        print(f"wrote {a.out}: {n} tensors, {a.dtype}, localiser {meta['architecture']} fold {meta['fold']}, "
              f"{os.path.getsize(a.out) / 1e6:.1f} MB")
        return
    extra = dict(m.split("=", 1) for m in a.meta)
    if a.fold_member:
        extra.update(fold_member_metadata(a.checkpoint, a.fold_member))
    if a.keep_f32:
        extra.setdefault("dtype_note", f"{a.dtype}, except F32 under: {', '.join(a.keep_f32)}")
    meta, n = export(a.checkpoint, a.out, a.arch, a.dtype, None, a.width_mult, a.depth_mult, extra, a.keep_f32)
    print(f"wrote {a.out}: {n} tensors, {a.dtype}, {meta['architecture']}, "
          f"{os.path.getsize(a.out) / 1e6:.1f} MB")



def fold_member_metadata(ckpt_path, data_root):
    """`fold`, `folds_manifest` and `training_signatures` for a fold member (docs/engine.md, "Fold ensembles")."""
    import csv
    from training import signatures
    meta = torch.load(ckpt_path, map_location="cpu", weights_only=False).get("meta") or {}
    if meta.get("fold") is None:
        raise SystemExit(f"error: {ckpt_path}: not a --fold run (its meta has no fold)")
    split_csv = os.path.join(os.path.dirname(os.path.abspath(ckpt_path)), "split.csv")
    with open(split_csv, newline="") as f:
        seen = [r["path"] for r in csv.DictReader(f) if r["split"] in ("train", "valid")]
    return {"fold": str(int(meta["fold"])),
            "folds_manifest": json.dumps(meta["folds_manifest"]),
            "training_signatures": signatures.metadata_value([os.path.join(data_root, p) for p in seen]),
            "training_images": str(len(seen))}


def load_exported(path):
    """The PyTorch model described by a weights file (widened to f32), in eval mode, and its metadata: a
    FractureClassifier, or a FractureLocaliser for a member whose role is localiser."""
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        meta = f.metadata() or {}
        sd = {k: f.get_tensor(k).float() for k in f.keys()}
    arch = meta.get("architecture", "efficientnet_b4")
    if meta.get("role") == "localiser":
        model = FractureLocaliser(arch)
        missing, unexpected = model.load_state_dict(sd, strict=False)
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise ValueError(f"{path}: missing {missing[:1]} unexpected {unexpected[:1]}")
        return model.eval(), meta
    classes = json.loads(meta.get("classes", json.dumps(CLASSES)))
    wm = float(meta["width_mult"]) if "width_mult" in meta else None
    dm = float(meta["depth_mult"]) if "depth_mult" in meta else None
    model = FractureClassifier(arch, len(classes), wm, dm)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked") and not k.startswith("base_model.classifier.")]
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing[:1]} unexpected {unexpected[:1]}")
    return model.eval(), meta


if __name__ == "__main__":
    main()
