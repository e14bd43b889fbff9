"""Perceptual training signatures, as fracview's `TrainingSignatures` reads them (Sources/Review/TrainingSignatures.swift).

Per image: its 64×64 luma thumbnail (ITU-R 601 luma of the RGB image, every source pixel averaged into bin
floor(x·64/width), floor(y·64/height)), then the 8×8 box average of that thumbnail (64 bytes) and the thumbnail's
central 38×38 window, rows and columns 13…50 (1444 bytes), each rounded to UInt8. fracview matches a case against
them with the audit's flip- and rotation-robust near-duplicate score, so a flipped or rotated copy of a training image
counts as seen. The metadata value is `fracview-nd-v1:` + base64 of the records back to back."""
import base64

import numpy as np
from PIL import Image

PREFIX = "fracview-nd-v1:"
SIDE = 64
COARSE = 8
CROP_LO, CROP_HI = 13, 51
BYTES = COARSE * COARSE + (CROP_HI - CROP_LO) ** 2


def thumbnail(path: str) -> np.ndarray:
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.float32)
    h, w, _ = rgb.shape
    luma = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    by = (np.arange(h) * SIDE) // max(h, 1)
    bx = (np.arange(w) * SIDE) // max(w, 1)
    sums = np.zeros((SIDE, SIDE), dtype=np.float64)
    counts = np.zeros((SIDE, SIDE), dtype=np.float64)
    np.add.at(sums, (by[:, None], bx[None, :]), luma)
    np.add.at(counts, (by[:, None], bx[None, :]), 1.0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)  # round half up, as Swift's .rounded()


def signature(path: str) -> bytes:
    t = thumbnail(path)
    b = SIDE // COARSE
    coarse = t.reshape(COARSE, b, COARSE, b).mean(axis=(1, 3))
    centre = t[CROP_LO:CROP_HI, CROP_LO:CROP_HI]
    return _u8(coarse).tobytes() + _u8(centre).tobytes()


def metadata_value(paths) -> str:
    return PREFIX + base64.b64encode(b"".join(signature(p) for p in paths)).decode("ascii")
