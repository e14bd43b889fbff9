"""The notebook's FractureClassifier on any EfficientNet-B0…B7 (torchvision) or Lite0…2 backbone."""
from functools import partial

import torch
from torch import nn
import torch.nn.functional as F

from .tv import torchvision  # noqa: F401
from torchvision.models import efficientnet as tv_effnet

from .lite import LITE_CONFIGS, efficientnet_lite, BN_EPS as LITE_BN_EPS

# torchvision's (width, depth, dropout) per B variant
B_CONFIGS = {
    "efficientnet_b0": (1.0, 1.0, 0.2),
    "efficientnet_b1": (1.0, 1.1, 0.2),
    "efficientnet_b2": (1.1, 1.2, 0.3),
    "efficientnet_b3": (1.2, 1.4, 0.3),
    "efficientnet_b4": (1.4, 1.8, 0.4),
    "efficientnet_b5": (1.6, 2.2, 0.4),
    "efficientnet_b6": (1.8, 2.6, 0.5),
    "efficientnet_b7": (2.0, 3.1, 0.5),
}
ARCHS = list(B_CONFIGS) + list(LITE_CONFIGS)

CLASSES = ["Comminuted", "Greenstick", "Healthy", "Linear", "Oblique Displaced", "Oblique", "Segmental",
           "Spiral", "Transverse Displaced", "Transverse"]
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
INPUT_SIZE = [224, 224]


def backbone_bn_eps(arch: str) -> float:
    if arch in LITE_CONFIGS:
        return LITE_BN_EPS
    return 1e-3 if arch in ("efficientnet_b5", "efficientnet_b6", "efficientnet_b7") else 1e-5


def build_backbone(arch: str, width_mult=None, depth_mult=None) -> nn.Module:
    if arch in LITE_CONFIGS:
        return efficientnet_lite(arch, width_mult, depth_mult)
    if arch not in B_CONFIGS:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {', '.join(ARCHS)}")
    if width_mult is None and depth_mult is None:
        return getattr(tv_effnet, arch)()
    w, d, p = B_CONFIGS[arch]
    setting, last = tv_effnet._efficientnet_conf(arch, width_mult=width_mult or w, depth_mult=depth_mult or d)
    norm = None if backbone_bn_eps(arch) == 1e-5 else partial(nn.BatchNorm2d, eps=1e-3)
    return tv_effnet.EfficientNet(setting, p, last_channel=last, norm_layer=norm)


def backbone_and_channels(arch: str, width_mult=None, depth_mult=None):
    """The backbone and the channel count of its last feature map (what every head on it is sized by)."""
    backbone = build_backbone(arch, width_mult, depth_mult)
    with torch.no_grad():
        return backbone, backbone.features(torch.zeros(1, 3, 64, 64)).shape[1]


class FractureClassifier(nn.Module):
    """features → attention gate (multiplies the features) → avg pool → MLP. forward returns (logits, attention)."""

    def __init__(self, arch="efficientnet_b4", num_classes=10, width_mult=None, depth_mult=None, dropout=0.5):
        super().__init__()
        self.arch = arch
        self.base_model, c = backbone_and_channels(arch, width_mult, depth_mult)
        self.feature_channels = c
        self.attention_gate = nn.Sequential(
            nn.Conv2d(c, c // 8, 1), nn.ReLU(inplace=True), nn.Conv2d(c // 8, 1, 1), nn.Sigmoid())
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c, 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True),
            nn.Linear(512, num_classes))

    def forward(self, x):
        return self.forward_from(x, 0)

    def forward_from(self, x, stage: int):
        """Runs features[stage:] and the head on x, the output of features[stage-1] (x is the image at 0)."""
        f = self.base_model.features[stage:](x)
        a = self.attention_gate(f)
        pooled = F.adaptive_avg_pool2d(f * a, 1).flatten(1)
        return self.classifier(pooled), a
