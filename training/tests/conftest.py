import os
import shutil
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
SAMPLE = os.path.join(REPO, "samples", "hbfmid-test")


@pytest.fixture(autouse=True)
def _one_thread():
    import torch
    torch.set_num_threads(1)


@pytest.fixture
def tiny_dataset(tmp_path):
    """8 train / 4 valid / 4 test images from the bundled sample, in YOLO layout."""
    src_img = os.path.join(SAMPLE, "test", "images")
    files = sorted(os.listdir(src_img))[:16]
    shutil.copy(os.path.join(SAMPLE, "data.yaml"), tmp_path / "data.yaml")
    for i, fn in enumerate(files):
        split = "train" if i < 8 else "valid" if i < 12 else "test"
        for sub in ("images", "labels"):
            os.makedirs(tmp_path / split / sub, exist_ok=True)
        shutil.copy(os.path.join(src_img, fn), tmp_path / split / "images" / fn)
        lab = os.path.splitext(fn)[0] + ".txt"
        shutil.copy(os.path.join(SAMPLE, "test", "labels", lab), tmp_path / split / "labels" / lab)
    return str(tmp_path)
