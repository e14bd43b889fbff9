"""The crop a crop classifier sees: a square around a fracture box, cut from the full-resolution image.

The rule (fracview's Swift engine cuts the same pixels; docs/engine.md):
- the box's longer side, plus `pad` of it on each side (25 %: side = 1.5 × the longer side), at least
  `min_side` of the image's shorter side and at most all of it;
- centred on the box, then shifted to lie inside the image;
- rounded to whole pixels: left and top are rounded, the side is rounded, and the crop is the PIL box
  (left, top, left + side, top + side);
- resized to the model's input with PIL's bilinear filter (antialiased), like the whole image.

Training crops are jittered around the label boxes (centre and scale), so that the classifier tolerates the
localiser's errors; view 0 is the exact crop."""
import hashlib
import os
import zlib

import numpy as np
import torch
from PIL import Image

PAD = 0.25
MIN_SIDE = 0.2


def crop_box(box, width, height, pad=PAD, min_side=MIN_SIDE, shift=(0.0, 0.0), scale=1.0):
    """The pixel box (left, top, right, bottom) of the square crop around `box` ([x0, y0, x1, y1] normalised);
    shift (fractions of the side) and scale jitter it."""
    short = min(width, height)
    bw, bh = (box[2] - box[0]) * width, (box[3] - box[1]) * height
    side = max(bw, bh) * (1 + 2 * pad) * scale
    side = min(max(side, min_side * short), short)
    cx = (box[0] + box[2]) / 2 * width + shift[0] * side
    cy = (box[1] + box[3]) / 2 * height + shift[1] * side
    s = int(round(side))
    left = int(round(min(max(cx - side / 2, 0.0), width - side)))
    top = int(round(min(max(cy - side / 2, 0.0), height - side)))
    left, top = min(max(left, 0), width - s), min(max(top, 0), height - s)
    return left, top, left + s, top + s


def union(boxes):
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def cut(im: Image.Image, pixel_box, size) -> torch.Tensor:
    """3×H×W uint8: the crop of an RGB PIL image, resized (bilinear, antialiased) to size (w, h)."""
    c = im.crop(pixel_box).resize(size, Image.BILINEAR)
    return torch.from_numpy(np.asarray(c, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()


def jitter(rel: str, v: int, seed: int):
    """(shift, scale) of training view v (v ≥ 1) of an image: centre ±15 % of the side, scale ×0.8–1.4."""
    rng = np.random.default_rng(zlib.crc32(f"{seed}|{rel}|crop{v}".encode()))
    return (float(rng.uniform(-0.15, 0.15)), float(rng.uniform(-0.15, 0.15))), float(rng.uniform(0.8, 1.4))


def load_crop_views(root, rels, boxes, views, seed, size=(224, 224), cache_dir=None) -> torch.Tensor:
    """views × N × 3 × H × W uint8 crops around each image's boxes (normalised [x0, y0, x1, y1]; their union);
    view 0 exact, the others jittered. An image with no box gets the whole image in every view."""
    key = hashlib.sha256(("\n".join(rels) + f"|{views}|{seed}|{size}|{PAD}|{MIN_SIDE}|{os.path.abspath(root)}|"
                          + repr(boxes)).encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f"crops-{key}.pt") if cache_dir else None
    if cache and os.path.exists(cache):
        return torch.load(cache)
    out = torch.empty(views, len(rels), 3, size[1], size[0], dtype=torch.uint8)
    for i, rel in enumerate(rels):
        with Image.open(os.path.join(root, rel)) as im:
            im = im.convert("RGB")
            for v in range(views):
                if not boxes[i]:
                    pb = (0, 0, im.width, im.height)
                else:
                    shift, scale = ((0.0, 0.0), 1.0) if v == 0 else jitter(rel, v, seed)
                    pb = crop_box(union(boxes[i]), im.width, im.height, shift=shift, scale=scale)
                out[v, i] = cut(im, pb, size)
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f"{cache}.{os.getpid()}.tmp"
        torch.save(out, tmp)
        os.replace(tmp, cache)
    return out
