"""The fracture localiser: an EfficientNet backbone with a CenterNet-style head on its last feature map.

The head has the attention gate's shape (Conv1×1 C→C/8, ReLU, Conv1×1 C/8→5), so the Swift engine runs it with the
gate's kernels. Its five output channels per cell of the G×G map (stride 32; G = 12 at 384×384):
  0  centre logit: sigmoid → the probability that a fracture box is centred in this cell;
  1, 2  centre offset inside the cell (x, y), through a sigmoid;
  3, 4  log of the box width and height, as fractions of the image side.
A box is read from each local maximum of the centre map (3×3 max-pool NMS), best first.

Boxes here are normalised [x0, y0, x1, y1] in the image (YOLO label boxes are converted with `yolo_to_corners`)."""
import math

import torch
from torch import nn
import torch.nn.functional as F

from .model import backbone_and_channels

HEAD_CHANNELS = 5
PRIOR = 0.1  # the centre map's initial probability (CenterNet's bias init)


class FractureLocaliser(nn.Module):
    def __init__(self, arch="efficientnet_lite0", width_mult=None, depth_mult=None):
        super().__init__()
        self.arch = arch
        self.base_model, c = backbone_and_channels(arch, width_mult, depth_mult)
        self.feature_channels = c
        self.box_head = nn.Sequential(nn.Conv2d(c, c // 8, 1), nn.ReLU(inplace=True), nn.Conv2d(c // 8, HEAD_CHANNELS, 1))
        with torch.no_grad():
            self.box_head[2].bias.zero_()
            self.box_head[2].bias[0] = -math.log((1 - PRIOR) / PRIOR)
            self.box_head[2].bias[3:5] = math.log(0.15)  # the median label box is about 0.16 × 0.12 of the image

    def forward(self, x):
        return self.forward_from(x, 0)

    def forward_from(self, x, stage: int):
        """features[stage:] and the head on x, the output of features[stage-1] (x is the image at 0): N×5×G×G."""
        return self.box_head(self.base_model.features[stage:](x))


def yolo_to_corners(box):
    """[class, cx, cy, w, h] → [x0, y0, x1, y1] (normalised)."""
    _, cx, cy, w, h = box
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def targets(boxes, g: int):
    """The training targets of one image's boxes ([x0, y0, x1, y1] normalised) on a g×g map: the centre heatmap
    (Gaussian splats, exactly 1 at each centre cell), and per centre cell its offset and log-size."""
    heat = torch.zeros(g, g)
    cells, offsets, sizes = [], [], []
    ys, xs = torch.meshgrid(torch.arange(g, dtype=torch.float32), torch.arange(g, dtype=torch.float32), indexing="ij")
    for x0, y0, x1, y1 in boxes:
        w, h = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
        cx, cy = (x0 + x1) / 2 * g, (y0 + y1) / 2 * g
        i, j = min(int(cy), g - 1), min(int(cx), g - 1)
        sigma = max(0.5, (w + h) * g / 6)
        splat = torch.exp(-((xs - j) ** 2 + (ys - i) ** 2) / (2 * sigma * sigma))
        heat = torch.maximum(heat, splat)
        heat[i, j] = 1.0
        cells.append((i, j))
        offsets.append((min(max(cx - j, 0.0), 1.0), min(max(cy - i, 0.0), 1.0)))
        sizes.append((math.log(w), math.log(h)))
    return heat, cells, offsets, sizes


def loss(out, batch_targets, size_weight=0.5):
    """CenterNet's loss: the penalty-reduced focal loss on the centre map, L1 on offset and log-size at centres."""
    logit = out[:, 0]
    p = torch.sigmoid(logit).clamp(1e-4, 1 - 1e-4)
    heat = torch.stack([t[0] for t in batch_targets]).to(out.device)
    pos = heat.eq(1.0).float()
    pos_loss = -(torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = -(torch.log(1 - p) * p ** 2 * (1 - heat) ** 4 * (1 - pos)).sum()
    n_pos = pos.sum().clamp_min(1.0)
    focal = (pos_loss + neg_loss) / n_pos
    reg = out.new_zeros(())
    n = 0
    for b, (_, cells, offsets, sizes) in enumerate(batch_targets):
        for (i, j), off, size in zip(cells, offsets, sizes):
            reg = reg + (torch.sigmoid(out[b, 1:3, i, j]) - out.new_tensor(off)).abs().sum()
            reg = reg + size_weight * (out[b, 3:5, i, j] - out.new_tensor(size)).abs().sum()
            n += 1
    return focal + reg / max(n, 1)


def decode(out, k: int = 5, min_score: float = 0.0):
    """Per image, up to k boxes [x0, y0, x1, y1, score] (normalised, clipped to the image), best first: the local
    maxima of the centre map (a cell that equals the maximum of its 3×3 neighbourhood)."""
    return decode_maps(torch.sigmoid(out[:, 0]), torch.sigmoid(out[:, 1:3]), out[:, 3:5], k, min_score)


def mean_maps(outs):
    """A fold ensemble's maps from its members' raw outputs (each N×5×G×G): the mean centre probability, the mean
    offset (after its sigmoid) and the mean log-size; fracview's engine averages the same way."""
    heat = torch.stack([torch.sigmoid(o[:, 0]) for o in outs]).mean(0)
    offsets = torch.stack([torch.sigmoid(o[:, 1:3]) for o in outs]).mean(0)
    log_sizes = torch.stack([o[:, 3:5] for o in outs]).mean(0)
    return heat, offsets, log_sizes


def decode_maps(heat, offsets, log_sizes, k: int = 5, min_score: float = 0.0):
    """`decode` on the maps themselves: heat N×G×G (probabilities), offsets N×2×G×G (in the cell, 0…1),
    log_sizes N×2×G×G."""
    peaks = heat * (F.max_pool2d(heat[:, None], 3, 1, 1)[:, 0] == heat).float()
    g = heat.shape[-1]
    result = []
    for b in range(heat.shape[0]):
        scores, idx = peaks[b].flatten().topk(min(k, g * g))
        boxes = []
        for s, ix in zip(scores.tolist(), idx.tolist()):
            if s <= min_score:
                break
            i, j = divmod(ix, g)
            ox, oy = offsets[b, :, i, j].tolist()
            w, h = torch.exp(log_sizes[b, :, i, j]).tolist()
            cx, cy = (j + ox) / g, (i + oy) / g
            boxes.append([max(cx - w / 2, 0.0), max(cy - h / 2, 0.0), min(cx + w / 2, 1.0), min(cy + h / 2, 1.0), s])
        result.append(boxes)
    return result


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def hit(pred_boxes, label_boxes, threshold: float = 0.3) -> bool:
    """The top predicted box overlaps a label box with IoU ≥ threshold."""
    return bool(pred_boxes) and any(iou(pred_boxes[0], t) >= threshold for t in label_boxes)


def centre_in_box(pred_boxes, label_boxes) -> bool:
    if not pred_boxes:
        return False
    cx, cy = (pred_boxes[0][0] + pred_boxes[0][2]) / 2, (pred_boxes[0][1] + pred_boxes[0][3]) / 2
    return any(t[0] <= cx <= t[2] and t[1] <= cy <= t[3] for t in label_boxes)


def average_precision(preds, labels, threshold: float = 0.5) -> float:
    """Class-agnostic AP at IoU ≥ threshold over all images (all-point interpolated, as PASCAL VOC 2010+): preds and
    labels are per-image lists of boxes; each label box is matched at most once, by the best-scoring prediction."""
    flat = sorted(((p[4], i, p) for i, ps in enumerate(preds) for p in ps), key=lambda t: -t[0])
    n_true = sum(len(t) for t in labels)
    if n_true == 0:
        return float("nan")
    used = [[False] * len(t) for t in labels]
    tp = []
    for _, i, p in flat:
        best, arg = 0.0, -1
        for j, t in enumerate(labels[i]):
            v = iou(p, t)
            if v > best:
                best, arg = v, j
        if best >= threshold and not used[i][arg]:
            used[i][arg] = True
            tp.append(1)
        else:
            tp.append(0)
    ap, seen_tp, prev_recall = 0.0, 0, 0.0
    precisions, recalls = [], []
    for n, t in enumerate(tp, 1):
        seen_tp += t
        precisions.append(seen_tp / n)
        recalls.append(seen_tp / n_true)
    for i in range(len(precisions) - 2, -1, -1):  # the precision envelope
        precisions[i] = max(precisions[i], precisions[i + 1])
    for p, r in zip(precisions, recalls):
        ap += p * (r - prev_recall)
        prev_recall = r
    return ap
