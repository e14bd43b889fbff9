"""EfficientNet-Lite0…2 in torchvision's module layout (the layout the Swift engine builds).

Lite differs from EfficientNet-B: no squeeze-and-excitation, ReLU6 everywhere, stem (32) and head (1280)
not width-scaled, first and last stage repeats not depth-scaled, BatchNorm eps 1e-3.
Padding is torchvision's symmetric k//2, not TF "same" (asymmetric at stride 2) as in the published
weights; fine-tuning absorbs the one-pixel shift.
"""
import math
from functools import partial

import torch
from torch import nn

from .tv import torchvision  # noqa: F401
from torchvision.ops import StochasticDepth
from torchvision.ops.misc import Conv2dNormActivation

BN_EPS = 1e-3

# expand ratio, kernel, stride, in, out, repeats (EfficientNet-B0 base table)
BASE_STAGES = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]

# width, depth, ImageNet dropout
LITE_CONFIGS = {
    "efficientnet_lite0": (1.0, 1.0, 0.2),
    "efficientnet_lite1": (1.0, 1.1, 0.2),
    "efficientnet_lite2": (1.1, 1.2, 0.3),
}

STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


def make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def stage_table(width: float, depth: float):
    """Per stage: (expand, kernel, stride, in_ch, out_ch, repeats) after scaling, lite rules."""
    table = []
    last = len(BASE_STAGES) - 1
    for i, (e, k, s, cin, cout, n) in enumerate(BASE_STAGES):
        cin = STEM_CHANNELS if i == 0 else make_divisible(cin * width)
        cout = make_divisible(cout * width)
        reps = n if i in (0, last) else int(math.ceil(n * depth))
        table.append((e, k, s, cin, cout, reps))
    return table


class LiteMBConv(nn.Module):
    def __init__(self, expand, kernel, stride, cin, cout, sd_prob, norm):
        super().__init__()
        self.use_res = stride == 1 and cin == cout
        hidden = cin * expand
        act = nn.ReLU6
        layers = []
        if expand != 1:
            layers.append(Conv2dNormActivation(cin, hidden, kernel_size=1, norm_layer=norm, activation_layer=act))
        layers.append(Conv2dNormActivation(hidden, hidden, kernel_size=kernel, stride=stride, groups=hidden,
                                           norm_layer=norm, activation_layer=act))
        layers.append(Conv2dNormActivation(hidden, cout, kernel_size=1, norm_layer=norm, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(sd_prob, "row")

    def forward(self, x):
        y = self.block(x)
        if self.use_res:
            y = self.stochastic_depth(y) + x
        return y


class EfficientNetLite(nn.Module):
    """features.0 stem, features.1–7 stages, features.8 head; an ImageNet classifier for completeness."""

    def __init__(self, width=1.0, depth=1.0, dropout=0.2, stochastic_depth_prob=0.2, num_classes=1000):
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=BN_EPS)
        table = stage_table(width, depth)
        layers = [Conv2dNormActivation(3, STEM_CHANNELS, kernel_size=3, stride=2, norm_layer=norm,
                                       activation_layer=nn.ReLU6)]
        total = sum(t[5] for t in table)
        idx = 0
        for e, k, s, cin, cout, reps in table:
            stage = []
            for r in range(reps):
                sd = stochastic_depth_prob * idx / total
                stage.append(LiteMBConv(e, k, s if r == 0 else 1, cin if r == 0 else cout, cout, sd, norm))
                idx += 1
            layers.append(nn.Sequential(*stage))
        layers.append(Conv2dNormActivation(table[-1][4], HEAD_CHANNELS, kernel_size=1, norm_layer=norm,
                                           activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout, inplace=True), nn.Linear(HEAD_CHANNELS, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def efficientnet_lite(arch: str, width_mult=None, depth_mult=None) -> EfficientNetLite:
    w, d, p = LITE_CONFIGS[arch]
    return EfficientNetLite(width=width_mult or w, depth=depth_mult or d, dropout=p)
