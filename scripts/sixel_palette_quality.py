#!/usr/bin/env python3
"""Would a fixed palette serve the colour sixel as well as a median cut per frame? (#28)

Renders `fracview gradcam` figures (panel 800 px) for the first N bundled X-rays, cuts out the Grad-CAM overlay
panel (0.6 x-ray + 0.4 jet heat, as the review screen blends it), and quantises it to 256 colours two ways, without
dithering, as the screen's sixel does:
  - a median cut over the frame (PIL's; libsixel's "high" quality is a median cut too);
  - a fixed palette known in advance: G grey levels x C jet levels, blended as the overlay blends them, each pixel
    mapped to its nearest entry (what a precomputed lookup table would do in a few ms).
Prints PSNR against the unquantised panel and PIL's time for each (PIL's times show the cost ratio, not fracview's).

    python3 scripts/sixel_palette_quality.py [--images 8] [--binary .build/release/fracview]
"""
import argparse
import glob
import os
import subprocess
import tempfile
import time

import numpy as np
from PIL import Image


def jet(v):
    # fracview's jet (Colormap.jetTable): channel = clamp(min(4t - k, 3 + k - 4t)), k = 1.5, 0.5, -0.5.
    return np.stack([np.clip(np.minimum(4 * v - k, 3 + k - 4 * v), 0, 1) for k in (1.5, 0.5, -0.5)], -1)


def fixed_palette(greys, levels):
    g = np.linspace(0, 255, greys)
    heat = 255 * jet(np.linspace(0, 1, levels))
    return np.clip(np.round(0.6 * g[:, None, None] + 0.4 * heat[None, :, :]), 0, 255).astype(np.uint8).reshape(-1, 3)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255 ** 2 / mse)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--binary", default=".build/release/fracview")
    ap.add_argument("--sample", default="samples/hbfmid-test/test/images")
    args = ap.parse_args()
    out = tempfile.mkdtemp(prefix="fracview-palette-")
    rows = []
    for name in sorted(os.listdir(args.sample))[: args.images]:
        png = os.path.join(out, name + ".png")
        subprocess.run([args.binary, "gradcam", os.path.join(args.sample, name), "-o", png, "--panel-size", "800",
                        "--method", "gradcam"], check=True, capture_output=True)
        figure = np.asarray(Image.open(png).convert("RGB"))
        panel = figure[:, 16 + 800 + 16: 16 + 2 * 800 + 16]  # margin 16, panels 800, gap 16: the middle one
        inked = np.where((panel < 250).any(axis=(1, 2)))[0]
        panel = panel[inked.min(): inked.max() + 1]
        image = Image.fromarray(panel)
        t = time.perf_counter()
        cut = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).convert("RGB")
        t_cut = time.perf_counter() - t
        row = [psnr(panel, np.asarray(cut)), t_cut * 1000]
        for greys, levels in [(16, 16), (32, 8)]:
            palette = Image.new("P", (1, 1))
            palette.putpalette(fixed_palette(greys, levels).flatten().tolist())
            t = time.perf_counter()
            fixed = image.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")
            row += [psnr(panel, np.asarray(fixed)), (time.perf_counter() - t) * 1000]
        rows.append(row)
        print(f"{name[:24]:<26} median cut {row[0]:.1f} dB ({row[1]:.0f} ms)   fixed 16x16 {row[2]:.1f} dB ({row[3]:.0f} ms)"
              f"   fixed 32x8 {row[4]:.1f} dB ({row[5]:.0f} ms)")
    m = np.mean(rows, axis=0)
    print(f"{'mean':<26} median cut {m[0]:.1f} dB ({m[1]:.0f} ms)   fixed 16x16 {m[2]:.1f} dB ({m[3]:.0f} ms)   "
          f"fixed 32x8 {m[4]:.1f} dB ({m[5]:.0f} ms)")


if __name__ == "__main__":
    main()
