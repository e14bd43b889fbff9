"""fracview's out-of-fold evaluation of the shipped pipeline on all of HBFMID agrees with PyTorch's.

training/results/oof-probe-fusion.json holds PyTorch's held-out predictions of the shipped pipeline (the b-full
members' probabilities averaged with the crop probes' on the crop around the localiser's out-of-fold box;
`python3 training/probe_crops.py …`), and oof-localiser-l320.json the localisers' out-of-fold boxes.
`fracview evaluate $D --split all --manifest training/splits/hbfmid-folds.csv --json` must give the same accuracy and
macro-F1 within 0.005, and the same localiser hit rate within 0.005, on the cases it calls held-out (it leaves out,
and lists, the cases every member has seen)."""
import json
import os
import subprocess

import pytest

from conftest import REPO
from training import evaluate, localiser

OOF = os.path.join(REPO, "training", "results", "oof-probe-fusion.json")
BOXES = os.path.join(REPO, "training", "results", "oof-localiser-l320.json")
FOLDS = os.path.join(REPO, "training", "splits", "hbfmid-folds.csv")


def dataset():
    for base in [os.environ.get("FRACVIEW_DATASETS", "")] + [os.path.join(REPO, *[".."] * i, "shared", "datasets")
                                                            for i in (1, 2, 3)]:
        if base and os.path.exists(os.path.join(base, "hbfmid", "data.yaml")):
            return os.path.join(base, "hbfmid")
    return None


def test_fracview_evaluate_split_all_reproduces_the_oof_numbers():
    binary = os.environ.get("FRACVIEW_BIN", "")
    if not (binary and os.access(binary, os.X_OK)):
        pytest.skip("FRACVIEW_BIN is not set to the built fracview binary (scripts/test.sh sets it)")
    data = dataset()
    if data is None:
        pytest.skip("the HBFMID dataset is not present (../shared/datasets/hbfmid)")
    with open(OOF) as f:
        rec = json.load(f)
    res = subprocess.run([binary, "evaluate", data, "--split", "all", "--manifest", FOLDS, "--json",
                          "--weights", os.path.join(REPO, "weights", "fracture-classifier")],
                         capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-2000:]
    report = json.loads(res.stdout)
    assert report["ci_method"] == "group bootstrap"
    seen = set(report["seen_cases"])
    keep = [i for i, p in enumerate(rec["paths"]) if p not in seen]
    assert len(keep) == report["n"], "the same held-out labelled cases"
    sub = {k: [rec[k][i] for i in keep] for k in ("paths", "labels", "groups", "folds", "probabilities")}
    sub["classes"] = rec["classes"]
    py = evaluate.score(sub, n_boot=200)
    assert abs(report["accuracy"] - py["accuracy"]) <= 0.005, (report["accuracy"], py["accuracy"])
    assert abs(report["macro_f1"] - py["macro_f1"]) <= 0.005, (report["macro_f1"], py["macro_f1"])
    assert report["groups"] == py["groups"]
    with open(BOXES) as f:
        boxes = json.load(f)
    hits = [localiser.hit(b, t) for p, b, t in zip(boxes["paths"], boxes["pred_boxes"], boxes["label_boxes"]) if p not in seen]
    assert len(hits) == report["localisation"]["n"]
    assert abs(report["localisation"]["hit_rate"] - sum(hits) / len(hits)) <= 0.005
