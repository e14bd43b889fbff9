"""The dataset reader: first-line class, unlabelled (empty/missing label) never class 0, multi-class reported."""
import os

import numpy as np
import pytest

from training import data, evaluate, losses


def write_ds(root, labels):
    os.makedirs(root / "train" / "images")
    os.makedirs(root / "train" / "labels")
    (root / "data.yaml").write_text("nc: 3\nnames: ['A', 'B', 'C']\n")
    for name, text in labels.items():
        (root / "train" / "images" / f"{name}.jpg").write_bytes(b"")
        if text is not None:
            (root / "train" / "labels" / f"{name}.txt").write_text(text)


def test_unlabelled_and_multiclass(tmp_path):
    write_ds(tmp_path, {
        "a": "1 0.5 0.5 0.1 0.1\n",
        "empty": "",
        "blank_lines": "\n  \n",
        "missing": None,
        "multi": "2 0.5 0.5 0.1 0.1\n0 0.2 0.2 0.1 0.1\n2 0.1 0.1 0.1 0.1\n",
        "bad": "x 0.5 0.5 0.1 0.1\n",
        "range": "7 0.5 0.5 0.1 0.1\n",
    })
    ds = data.load(str(tmp_path))
    by = {os.path.splitext(os.path.basename(c.path))[0]: c for c in ds.cases}
    assert by["a"].label == 1
    assert by["multi"].label == 2 and by["multi"].classes == [2, 0]
    for name in ("empty", "blank_lines", "missing", "bad", "range"):
        assert by[name].label is None, name
        assert by[name].problem
    assert by["missing"].problem == "missing label file"
    assert by["empty"].problem == "empty label file"
    train = ds.split("train")
    assert sorted(os.path.basename(c.path) for c in train) == ["a.jpg", "multi.jpg"]
    assert {os.path.basename(c.path) for c in ds.unlabelled()} == {
        "empty.jpg", "blank_lines.jpg", "missing.jpg", "bad.jpg", "range.jpg"}
    assert [os.path.basename(c.path) for c in ds.multiclass()] == ["multi.jpg"]
    rep = ds.report()
    assert "unlabelled (excluded): 5" in rep and "several classes" in rep


def test_bad_yaml_and_manifest(tmp_path):
    (tmp_path / "data.yaml").write_text("nc: 2\nnames: ['A', 'B', 'C']\n")
    with pytest.raises(data.DatasetError, match="nc is 2"):
        data.read_names(str(tmp_path))
    (tmp_path / "data.yaml").write_text("names: [unclosed\n")
    with pytest.raises(data.DatasetError, match="data.yaml"):
        data.read_names(str(tmp_path))
    m = tmp_path / "m.csv"
    m.write_text("file,where\nx.jpg,train\n")
    with pytest.raises(data.DatasetError, match="header"):
        data.read_manifest(str(m))
    m.write_text("path,split\nx.jpg,val\ny.jpg,test\nz.jpg,holdout\n")
    with pytest.raises(data.DatasetError, match="line 4"):
        data.read_manifest(str(m))


def test_manifest_split(tmp_path):
    write_ds(tmp_path, {"p1.rf.aa": "0 .5 .5 .1 .1\n", "p1.rf.bb": "0 .5 .5 .1 .1\n", "q_jpg.rf.cc": "1 .5 .5 .1 .1\n"})
    m = tmp_path / "m.csv"
    m.write_text("path,split\ntrain/images/p1.rf.aa.jpg,train\ntrain/images/q_jpg.rf.cc.jpg,test\n")
    ds = data.load(str(tmp_path), str(m))
    assert [c.path for c in ds.split("test")] == ["train/images/q_jpg.rf.cc.jpg"]
    assert len(ds.split("train")) == 1
    assert data.source_group("train/images/q_jpg.rf.cc.jpg") == "q_jpg"
    assert data.label_path_for("train/images/q.jpg") == "train/labels/q.txt"


def test_class_weights_balanced_and_boosted():
    w = losses.balanced_class_weights([0, 0, 0, 1], 3, {0: 3.0})
    # balanced over the 2 present classes: 4/(2*3), 4/(2*1); absent class 0
    assert np.allclose(w.numpy(), [3.0 * 4 / 6, 2.0, 0.0])


def test_evaluate_metrics():
    names = ["Comminuted", "Healthy", "Transverse Displaced"]
    eye = np.eye(3)
    y = [0, 0, 2, 2, 1]
    pred = [2, 0, 1, 2, 1]   # one Comminuted→TD, one TD→Healthy
    rec = {"classes": names, "labels": y, "probabilities": eye[pred].tolist()}
    s = evaluate.score(rec, n_boot=500)
    assert s["accuracy"] == pytest.approx(0.6)
    assert s["critical_errors"] == 2
    assert s["recall"] == {"Comminuted": 0.5, "Healthy": 1.0, "Transverse Displaced": 0.5}
    # F1: C 2*1*.5/1.5=.667, H 2*.5*1/1.5=.667, TD .5/.5 → .5
    assert s["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0.5) / 3)
    lo, hi = s["accuracy_ci95"]
    assert 0.0 <= lo <= 0.6 <= hi <= 1.0
    assert evaluate.score(rec, n_boot=500)["accuracy_ci95"] == (lo, hi)  # seeded
