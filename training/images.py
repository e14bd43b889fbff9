"""Image loading exactly as the notebook's eval transform: PIL open → RGB → Resize((224,224)) (bilinear,
antialiased) → uint8 CHW. ToTensor+Normalize happen in `normalize`, so a uint8 cache is lossless."""
import hashlib
import os

import numpy as np
import torch
from PIL import Image

from .tv import transforms, v2


def load_image(path: str, size=(224, 224)) -> torch.Tensor:
    with Image.open(path) as im:
        im = transforms.Resize(size)(im.convert("RGB"))
        return torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()


def load_images(root: str, rels: list, cache_dir: str | None = None, size=(224, 224)) -> torch.Tensor:
    """N×3×H×W uint8; cached under cache_dir keyed by the path list."""
    key = hashlib.sha256(("\n".join(rels) + f"|{size}|{os.path.abspath(root)}").encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f"img{size[0]}-{key}.pt") if cache_dir else None
    if cache and os.path.exists(cache):
        return torch.load(cache)
    out = torch.stack([load_image(os.path.join(root, r), size) for r in rels]) if rels else \
        torch.zeros(0, 3, *size, dtype=torch.uint8)
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f"{cache}.{os.getpid()}.tmp"  # parallel runs may fill the same cache entry
        torch.save(out, tmp)
        os.replace(tmp, cache)
    return out


def normalize(x_uint8: torch.Tensor, mean, std) -> torch.Tensor:
    x = x_uint8.float().div_(255.0)
    m = torch.tensor(mean, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, 3, 1, 1)
    return (x - m) / s


def augmenter(jitter=(0.3, 0.3, 0.2), degrees=15.0, translate=0.1, scale=(0.9, 1.1)):
    """The notebook's training augmentation, on uint8 tensors (one image at a time)."""
    return v2.Compose([
        v2.RandomHorizontalFlip(),
        v2.RandomVerticalFlip(),
        v2.ColorJitter(brightness=jitter[0], contrast=jitter[1], saturation=jitter[2]),
        v2.RandomAffine(degrees=degrees, translate=(translate, translate), scale=scale),
    ])


def augment_batch(aug, x_uint8: torch.Tensor) -> torch.Tensor:
    return torch.stack([aug(img) for img in x_uint8])
