"""The notebook's loss: 0.4·weighted CE + 0.6·weighted focal (γ=2), class weights sklearn-"balanced" × boosts."""
import torch
import torch.nn.functional as F


def balanced_class_weights(labels, n_classes: int, boosts: dict) -> torch.Tensor:
    """sklearn compute_class_weight('balanced') over the classes present; absent classes get 0."""
    counts = torch.bincount(torch.as_tensor(labels), minlength=n_classes).float()
    present = (counts > 0).sum()
    w = torch.where(counts > 0, counts.sum() / (present * counts.clamp(min=1)), torch.zeros_like(counts))
    for c, b in boosts.items():
        w[c] *= b
    return w


def parse_boosts(spec: str) -> dict:
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        c, b = part.split(":")
        out[int(c)] = float(b)
    return out


class CombinedLoss(torch.nn.Module):
    def __init__(self, weights, ce_weight=0.4, focal_weight=0.6, gamma=2.0):
        super().__init__()
        self.register_buffer("w", weights)
        self.ce_weight, self.focal_weight, self.gamma = ce_weight, focal_weight, gamma

    def forward(self, logits, target):
        ce = F.cross_entropy(logits, target, weight=self.w)
        ce_each = F.cross_entropy(logits, target, weight=self.w, reduction="none")
        pt = torch.exp(-F.cross_entropy(logits, target, reduction="none"))
        focal = ((1 - pt) ** self.gamma * ce_each).mean()
        return self.ce_weight * ce + self.focal_weight * focal
