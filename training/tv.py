"""Imports torchvision on this torch build.

The installed torchvision wheel registers fake kernels for its C++ ops, but this CPU torch has no
torchvision C++ library, so the op schemas must exist first. Import torchvision only through here.
"""
import torch

for _op in ("nms", "qnms"):
    try:
        torch.library.define(f"torchvision::{_op}", "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    except RuntimeError:
        pass  # already defined (a real torchvision build, or imported twice)

import torchvision  # noqa: E402
from torchvision import models, transforms  # noqa: E402,F401
from torchvision.transforms import v2  # noqa: E402,F401
