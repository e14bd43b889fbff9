"""DICOM test files for fracview's DCMTK decoder, and what pydicom shows for each.

Run from the repository root: python3 Tests/Fixtures/dicom/make_dicom_fixtures.py
Needs pydicom (training/requirements-test.txt), numpy, Pillow, and DCMTK's dcmconv/dcmcrle/dcmcjpeg/dcmcjpls
(Debian `dcmtk`) to write the compressed transfer syntaxes pydicom cannot encode.

For each file NAME.dcm it writes NAME.png: pydicom's decoding through apply_modality_lut and apply_voi_lut (the
file's first window or VOI LUT), scaled from pydicom's output range to 8 bits, inverted for MONOCHROME1; for a
colour file (RGB, YBR, PALETTE COLOR) pydicom's RGB (its palette applied, 16-bit entries scaled to 8 bits). The
test compares `fracview decode` with it: at most 1 level of mean difference.
"""
import os
import subprocess

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut
from pydicom.pixels import pack_bits
from pydicom.uid import (DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                         SecondaryCaptureImageStorage, generate_uid)

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 64, 48


def base(bits, pixels, photometric="MONOCHROME2", slope=None, intercept=None, window=None, frames=1):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.PatientName = "Test^Fixture"
    ds.Rows, ds.Columns = H, W
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    if slope is not None:
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = pixels.astype(np.uint8 if bits <= 8 else np.uint16).tobytes()
    return ds


def pattern(maximum):
    """A ramp with rings: every level used, and a structure to see."""
    y, x = np.mgrid[0:H, 0:W]
    ramp = x / (W - 1) * 0.7 + y / (H - 1) * 0.3
    rings = 0.15 * np.sin(np.hypot(x - W / 2, y - H / 2) / 3)
    return np.clip((ramp + rings) / 1.15 * maximum, 0, maximum).round()


def expected(path):
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    if getattr(ds, "NumberOfFrames", 1) > 1:
        arr = arr[0]
    values = apply_modality_lut(arr, ds).astype(np.float64)
    if "VOILUTSequence" in ds:
        out = apply_voi_lut(arr, ds, index=0).astype(np.float64)
        bits = ds.VOILUTSequence[0].LUTDescriptor[2]
        lo, hi = 0.0, float(2 ** bits - 1)
    elif "WindowCenter" in ds:
        # Two extremes appended: pydicom's windowing maps them to its output range's ends.
        ext = np.append(values.ravel(), [-1e12, 1e12])
        win = apply_voi_lut(ext, ds, index=0).astype(np.float64)
        lo, hi = win[-2], win[-1]
        out = win[:-2].reshape(values.shape)
    else:
        out, lo, hi = values, values.min(), values.max()
    y = np.floor(np.clip((out - lo) / (hi - lo) * 255, 0, 255) + 1e-9)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        y = 255 - y  # inverted after the window, as a display does
    return y.astype(np.uint8)


def expected_rgb(path):
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array  # pydicom 3 converts YBR to RGB
    if getattr(ds, "NumberOfFrames", 1) > 1:
        arr = arr[0]
    if ds.PhotometricInterpretation == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds).astype(np.float64) / 65535 * 255
    return np.clip(np.asarray(arr, dtype=np.float64).round(), 0, 255).astype(np.uint8)


def colour(photometric, pixels, bits=8):
    """A colour secondary capture: pixels H×W×3 (RGB), or H×W indices for PALETTE COLOR."""
    ds = base(8, pattern(255))
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    if photometric == "PALETTE COLOR":
        ds.SamplesPerPixel = 1
        ramp = np.linspace(0, 1, 256)
        for name, curve in (("Red", ramp), ("Green", ramp ** 2), ("Blue", 1 - ramp)):
            setattr(ds, f"{name}PaletteColorLookupTableDescriptor", [256, 0, 16])
            ds.add_new({"Red": 0x00281201, "Green": 0x00281202, "Blue": 0x00281203}[name], "OW",
                       (curve * 65535).round().astype("<u2").tobytes())
        ds.PixelData = pixels.astype(np.uint8).tobytes()
    else:
        ds.SamplesPerPixel = 3
        ds.PlanarConfiguration = 0
        ds.PixelData = pixels.astype(np.uint8).tobytes()
    return ds


def save(ds, name, implicit=False):
    path = os.path.join(HERE, name)
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(path, implicit_vr=implicit, little_endian=True, enforce_file_format=True)
    return path


def tool(args, source, name):
    path = os.path.join(HERE, name)
    subprocess.run(args + [source, path], check=True)
    return path


def main():
    twelve = pattern(4095)
    files = []
    ex = save(base(12, twelve, slope=2.0, intercept=-1024.0, window=(2048.0, 4000.0)), "explicit_le.dcm")
    files += [ex, save(base(12, twelve, slope=2.0, intercept=-1024.0, window=(2048.0, 4000.0)), "implicit_le.dcm", implicit=True)]
    files.append(tool(["dcmconv", "+tb"], ex, "explicit_be.dcm"))
    files.append(tool(["dcmcrle"], ex, "rle.dcm"))
    files.append(tool(["dcmcjpeg", "+el"], ex, "jpeg_lossless.dcm"))
    files.append(tool(["dcmcjpeg", "+ee"], ex, "jpeg_extended.dcm"))
    files.append(tool(["dcmcjpls", "+el"], ex, "jpegls_lossless.dcm"))
    eight = base(8, pattern(255), window=(128.0, 256.0))
    e8 = save(eight, "u8.dcm")
    files += [e8, tool(["dcmcjpeg", "+eb"], e8, "jpeg_baseline.dcm")]
    files.append(save(base(8, pattern(255), photometric="MONOCHROME1"), "monochrome1.dcm"))
    multi = np.stack([pattern(255), 255 - pattern(255), pattern(255) / 2])
    files.append(save(base(8, multi, frames=3, window=(100.0, 150.0)), "multiframe.dcm"))
    # A VOI LUT: a gamma curve over the 12-bit range into 16-bit output (8-bit LUT entries are packed differently
    # by different readers; 16-bit ones are not ambiguous).
    voi = base(12, twelve)
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    lut = (np.linspace(0, 1, 4096) ** 0.5 * 65535).round().astype(np.uint16)
    item.add_new(0x00283006, "US", lut.tolist())  # LUT Data, 16-bit entries
    voi.VOILUTSequence = [item]
    files.append(save(voi, "voi_lut.dcm"))
    # Deflated Explicit VR Little Endian: the data set is one deflate stream, so the lengths inside it are larger
    # than the file (a 256×256 image, 64 KiB of pixels, in a file of a few KiB).
    y, x = np.mgrid[0:256, 0:256]
    deflated = base(8, ((x + y) // 2).astype(np.uint8), window=(128.0, 256.0))
    deflated.Rows, deflated.Columns = 256, 256
    deflated.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = os.path.join(HERE, "deflated.dcm")
    deflated.save_as(path, enforce_file_format=True)  # refused by name (no PNG): see DicomTests
    # BitsAllocated 1 (a bit mask image, 8 pixels a byte), little and big endian.
    bits = base(8, pattern(255))
    bits.BitsAllocated, bits.BitsStored, bits.HighBit = 1, 1, 0
    bits.PixelData = pack_bits((pattern(255) > 127).astype(np.uint8))
    bits["PixelData"].VR = "OB"
    one = save(bits, "bits1_le.dcm")
    files += [one, tool(["dcmconv", "+tb"], one, "bits1_be.dcm")]
    # 32-bit samples (issue #26 §9: a big-endian file's were read as swapped 16-bit words).
    wide = base(16, pattern(255))
    wide.BitsAllocated, wide.BitsStored, wide.HighBit = 32, 32, 31
    values = pattern(4_000_000_000 // 255) * 255 + 795000
    wide.PixelData = values.astype("<u4").tobytes()
    files.append(save(wide, "u32_le.dcm"))
    # Written by pydicom, each sample's four bytes reversed as the standard's big endian has them (dcmconv +tb
    # swaps 16-bit words only, which pydicom and fracview read as other values).
    wide.PixelData = values.astype(">u4").tobytes()
    wide.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    path = os.path.join(HERE, "u32_be.dcm")
    wide.save_as(path, implicit_vr=False, little_endian=False, enforce_file_format=True)
    files.append(path)
    for f in files:
        Image.fromarray(expected(f), mode="L").save(f[:-4] + ".png")
    # Colour (issue #26 §14): RGB little and big endian, uncompressed YBR_FULL_422, JPEG (YBR), and a palette.
    y, x = np.mgrid[0:H, 0:W]
    rgb = np.stack([pattern(255), 255 - pattern(255), (x * 255 // (W - 1)) * (y % 8 < 4)], axis=-1)
    colour_files = [save(colour("RGB", rgb), "rgb_le.dcm")]
    colour_files.append(tool(["dcmconv", "+tb"], colour_files[0], "rgb_be.dcm"))
    colour_files.append(tool(["dcmcjpeg", "+eb"], colour_files[0], "rgb_jpeg.dcm"))
    ycc = rgb.astype(np.float64)
    yy = 0.299 * ycc[..., 0] + 0.587 * ycc[..., 1] + 0.114 * ycc[..., 2]
    cb = 128 - 0.168736 * ycc[..., 0] - 0.331264 * ycc[..., 1] + 0.5 * ycc[..., 2]
    cr = 128 + 0.5 * ycc[..., 0] - 0.418688 * ycc[..., 1] - 0.081312 * ycc[..., 2]
    packed = np.empty((H, W // 2, 4))
    packed[..., 0], packed[..., 1] = yy[:, 0::2], yy[:, 1::2]
    packed[..., 2] = (cb[:, 0::2] + cb[:, 1::2]) / 2
    packed[..., 3] = (cr[:, 0::2] + cr[:, 1::2]) / 2
    ybr = colour("YBR_FULL_422", rgb)
    ybr.PixelData = np.clip(packed.round(), 0, 255).astype(np.uint8).tobytes()
    colour_files.append(save(ybr, "ybr_full_422.dcm"))
    colour_files.append(save(colour("PALETTE COLOR", pattern(255)), "palette.dcm"))
    for f in colour_files:
        Image.fromarray(expected_rgb(f), mode="RGB").save(f[:-4] + ".png")
    # Extreme float tags (issue #26): a window of ±1e308 is ignored; a Rescale Slope of 1e308 is refused as
    # unsupported (its values leave single precision). No PNG: nothing to compare.
    save(base(12, twelve, slope=1.0, intercept=0.0, window=(-1e308, 1e308)), "huge_window.dcm")
    save(base(12, twelve, slope=1e308, intercept=0.0, window=(2048.0, 4000.0)), "huge_slope.dcm")
    # A transfer syntax DCMTK cannot decode here (JPEG 2000), with junk fragments.
    j2k = pydicom.dcmread(e8)
    j2k.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.90"
    from pydicom.encaps import encapsulate
    j2k.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\0" * 64])
    j2k["PixelData"].VR = "OB"
    j2k.save_as(os.path.join(HERE, "jpeg2000.dcm"), enforce_file_format=True)
    for f in sorted(os.listdir(HERE)):
        if f.endswith(".dcm"):
            print(f, pydicom.dcmread(os.path.join(HERE, f)).file_meta.TransferSyntaxUID.name)


if __name__ == "__main__":
    main()
