"""Writes the fuzz harnesses' seed corpora under Tests/Fuzz/corpus/HARNESS, small and made from real files.

Run from the repository root: python3 Tests/Fuzz/make_corpus.py
"""
import json
import os
import shutil
import sqlite3
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(ROOT))
CORPUS = os.path.join(ROOT, "corpus")


def out(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(metadata, tensors):
    """tensors: [(name, dtype, shape, bytes)] in order."""
    header, offset, body = {"__metadata__": metadata}, 0, b""
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        body += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def weights():
    with open(os.path.join(REPO, "Tests/Fixtures/engine/model_tiny_lite0.safetensors"), "rb") as f:
        real = f.read()
    n = struct.unpack("<Q", real[:8])[0]
    header = json.loads(real[8:8 + n])
    meta = header["__metadata__"]
    # The real metadata with a few of the real tensors: the parser, the bounds and the config all run, then the
    # model reports its first missing tensor.
    names = [k for k in header if k != "__metadata__"][:3]
    tensors = []
    for k in names:
        start, end = header[k]["data_offsets"]
        tensors.append((k, header[k]["dtype"], header[k]["shape"], real[8 + n + start:8 + n + end][:256]))
        tensors[-1] = (k, "F32", [len(tensors[-1][3]) // 4], tensors[-1][3][: len(tensors[-1][3]) // 4 * 4])
    out("weights", "lite0-meta.safetensors", safetensors(meta, tensors))
    b0 = dict(meta, architecture="efficientnet_b0", bn_eps="0.001", head_channels="128", width_mult="0.5",
              depth_mult="0.5")
    out("weights", "b0-meta-f16.safetensors",
        safetensors(b0, [("classifier.1.bias", "F16", [10], struct.pack("<10e", *([0.5] * 10))),
                         ("classifier.1.weight", "BF16", [2, 2], b"\x80\x3f" * 4)]))
    out("weights", "no-meta.safetensors", safetensors({}, [("x", "F32", [2], struct.pack("<2f", 1, 2))]))
    # The real header over an empty data section (every offset past the end).
    out("weights", "lite0-header-only.safetensors", real[:8 + n])


def images():
    src = os.path.join(REPO, "Tests/Fixtures/imaging/decode")
    for name in ["expected_gray1.png", "expected_gray4_trns.png", "expected_palette4.png", "expected_rgb16.png",
                 "expected_gray_alpha16.png", "expected_rgb8_interlaced.png", "cmyk_q90.jpg", "bad_precision.jpg",
                 "gray_q90.jpg", "progressive.jpg", "rgb420_q90.jpg"]:
        p = os.path.join(src, name)
        if os.path.exists(p):
            shutil.copy(p, os.path.join(CORPUS, "image", name)) if os.path.isdir(os.path.join(CORPUS, "image")) \
                else (os.makedirs(os.path.join(CORPUS, "image")), shutil.copy(p, os.path.join(CORPUS, "image", name)))


def datasets():
    ten = ("nc: 10\nnames: ['Comminuted', 'Greenstick', 'Healthy', 'Linear', 'Oblique Displaced', 'Oblique', "
           "'Segmental', 'Spiral', 'Transverse Displaced', 'Transverse']\n")
    out("dataset", "ten-classes", ten.encode() + b"\0" + b"8 0.5 0.5 0.25 0.125\n8 0.1 0.2 0.05 0.05\n")
    out("dataset", "names-map", b"train: ../train/images\nval: ../valid/images\nnames:\n  0: a\n  1: b\n  2: c\n"
        + b"\0" + b"2 0.5 0.5 0.2 0.2\r\n1 0.3 0.3 0.1 0.1\r\n")
    out("dataset", "nc-only", b"nc: 3\n\0" + b"0 0.5 0.5 0.2\n")
    out("dataset", "bom-empty-label", b"\xef\xbb\xbfnames: [x, y]\n\0")
    out("dataset", "no-yaml", b"\0" + b"1 1.0 0.0 0.5 0.5\n")


def databases():
    src = os.path.join(REPO, "Tests/Fixtures/review/v1-review.sqlite")
    tmp = os.path.join(CORPUS, "tmp.sqlite")
    shutil.copy(src, tmp)
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("PRAGMA page_size = 512")
    con.execute("VACUUM")
    con.close()
    with open(tmp, "rb") as f:
        out("database", "v1-small.sqlite", f.read())
    # Wrong-typed and contradictory values (issue #26 §10): a REAL and a TEXT where class indices belong, and a
    # session class list that is not a list of names.
    con = sqlite3.connect(tmp)
    con.execute("UPDATE decision SET truth = 2.5 WHERE rowid = (SELECT MIN(rowid) FROM decision)")
    con.execute("UPDATE decision SET reviewer_label = 'abc' WHERE rowid = (SELECT MAX(rowid) FROM decision)")
    con.execute("UPDATE session SET classes = '[1, 2]'")
    con.commit()
    con.execute("VACUUM")
    con.close()
    with open(tmp, "rb") as f:
        out("database", "wrong-types.sqlite", f.read())
    os.remove(tmp)


def dicoms():
    src = os.path.join(REPO, "Tests/Fixtures/dicom")  # written by Tests/Fixtures/dicom/make_dicom_fixtures.py
    os.makedirs(os.path.join(CORPUS, "dicom"), exist_ok=True)
    for name in ["u8", "rle", "jpeg_baseline", "jpegls_lossless", "monochrome1", "voi_lut", "u32_be", "rgb_le",
                 "ybr_full_422", "palette"]:
        shutil.copy(os.path.join(src, name + ".dcm"), os.path.join(CORPUS, "dicom", name + ".dcm"))
    # Sequences nested 300 deep (past the 128-level bound; issue #26 §2): the fuzzer mutates the nesting scan.
    data = bytearray(open(os.path.join(src, "u8.dcm"), "rb").read())
    at = data.rfind(bytes([0xE0, 0x7F, 0x10, 0x00]))
    opening = bytes([0x40, 0, 0x30, 0xA7]) + b"SQ" + bytes([0, 0, 255, 255, 255, 255]) + bytes([0xFE, 0xFF, 0, 0xE0, 255, 255, 255, 255])
    closing = bytes([0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0])
    data[at:at] = opening * 300 + closing * 300
    with open(os.path.join(CORPUS, "dicom", "nested.dcm"), "wb") as f:
        f.write(bytes(data))


def inputs():
    out("input", "keys", b"a\x1b[C\x1bOC\x1b[5~f3\r\x1b")
    out("input", "paste", b"n\x1b[200~looks fine\r\n5\x1b[201~\r")
    out("input", "replies", b"\x1b[?62;4;22c\x1b[6;20;10t\x1b]11;rgb:0000/0000/0000\x07\x1bP1$r0m\x1b\\")
    out("input", "utf8", "é漢🦴\u202e".encode() + b"\xff\xc3(")


if __name__ == "__main__":
    weights()
    images()
    datasets()
    databases()
    dicoms()
    inputs()
    for h in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, h))
        print(h, len(files), "files,", sum(os.path.getsize(os.path.join(CORPUS, h, f)) for f in files), "bytes")
