"""Imports torchvision on this torch build and on a regular one.

The torchvision wheel we pin registers fake kernels for its C++ ops, but the CPU torch we pin has no
torchvision C++ library, so importing it fails with "operator torchvision::nms does not exist". Then the two
op schemas are defined and the import is retried. A regular install (e.g. a GPU machine's) imports on the first
try, and defining the schemas there would collide with its own. Import torchvision only through here.
"""
import sys

import torch

try:
    import torchvision  # noqa: F401
except RuntimeError as e:
    if "torchvision::" not in str(e):
        raise
    for _name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[_name]  # the failed import left half-initialised modules behind
    for _op in ("nms", "qnms"):
        try:
            torch.library.define(f"torchvision::{_op}", "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        except RuntimeError:
            pass  # already defined
    import torchvision  # noqa: F401,E402

from torchvision import models, transforms  # noqa: E402,F401
from torchvision.transforms import v2  # noqa: E402,F401
