"""training/cv.py's --resume: which fold runs count as finished."""
import json
import os

from training import cv


def test_a_fold_counts_as_trained_only_with_its_summary_and_test_predictions(tmp_path):
    run = tmp_path / "fold-0"
    assert not cv.fold_is_trained(str(run)), "no folder"
    run.mkdir()
    (run / "train.log").write_text("epoch 1 …\n")
    (run / "best.pt").write_bytes(b"\0")
    assert not cv.fold_is_trained(str(run)), "killed mid-training: only a log and a checkpoint"
    (run / "summary.json").write_text(json.dumps({"train_seconds": 1}))
    assert not cv.fold_is_trained(str(run)), "no test-fold predictions yet"
    (run / "preds-test.json").write_text("[]")
    assert cv.fold_is_trained(str(run))
    os.remove(run / "summary.json")
    (run / "summary.json").mkdir()
    assert not cv.fold_is_trained(str(run)), "a folder is not a summary"


def test_the_full_fine_tune_row_trains_every_layer():
    opts = cv.ROWS["b-full"]
    assert "--freeze-until" not in opts and "--cache-views" not in opts
    assert opts[opts.index("--arch") + 1] == "efficientnet_lite0" and "--pretrained" in opts
