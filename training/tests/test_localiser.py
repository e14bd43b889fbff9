"""The localiser pipeline's pieces (training/localiser.py, crops.py, localise.py, pipeline_oof.py): targets decode back
to their boxes, AP and the hit rate on known cases, view geometry, the crop rule, and a smoke run of the whole chain
(localiser folds → crop classifier folds → pipeline OOF) on the bundled sample."""
import csv
import json
import os

import pytest
import torch

from training import crops, localiser
from training.localise import view_boxes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(REPO, "samples", "hbfmid-test")


def encode(boxes, g):
    """The head output that decodes exactly to `boxes` (the inverse of decode, for the test)."""
    out = torch.full((1, 5, g, g), -20.0)
    for x0, y0, x1, y1 in boxes:
        cx, cy = (x0 + x1) / 2 * g, (y0 + y1) / 2 * g
        i, j = int(cy), int(cx)
        out[0, 0, i, j] = 5.0
        out[0, 1, i, j] = torch.logit(torch.tensor(cx - j))
        out[0, 2, i, j] = torch.logit(torch.tensor(cy - i))
        out[0, 3, i, j] = torch.log(torch.tensor(x1 - x0))
        out[0, 4, i, j] = torch.log(torch.tensor(y1 - y0))
    return out


def test_decode_inverts_the_head_and_targets_mark_the_centre():
    boxes = [[0.1, 0.2, 0.3, 0.35], [0.6, 0.55, 0.9, 0.8]]
    got = localiser.decode(encode(boxes, 10), k=5, min_score=0.5)[0]
    assert len(got) == 2
    for b in boxes:
        assert any(max(abs(u - v) for u, v in zip(b, d[:4])) < 1e-4 for d in got)
    heat, cells, offsets, sizes = localiser.targets(boxes, 10)
    assert cells == [(2, 2), (6, 7)] and heat[2, 2] == 1 and heat[6, 7] == 1
    assert float(heat.max()) == 1 and float(heat[0, 9]) < 0.01


def test_loss_is_lower_for_the_right_answer():
    boxes = [[0.1, 0.2, 0.3, 0.35]]
    t = [localiser.targets(boxes, 8)]
    right = localiser.loss(encode(boxes, 8), t)
    wrong = localiser.loss(encode([[0.6, 0.6, 0.8, 0.8]], 8), t)
    assert right < wrong


def test_hit_rate_centre_and_average_precision():
    truth = [[[0.1, 0.1, 0.3, 0.3]], [[0.5, 0.5, 0.7, 0.7]]]
    preds = [[[0.12, 0.1, 0.31, 0.3, 0.9]], [[0.0, 0.0, 0.1, 0.1, 0.8], [0.5, 0.5, 0.7, 0.7, 0.4]]]
    assert localiser.hit(preds[0], truth[0]) and not localiser.hit(preds[1], truth[1])
    assert localiser.centre_in_box(preds[0], truth[0]) and not localiser.centre_in_box(preds[1], truth[1])
    # Ranked: 0.9 TP, 0.8 FP, 0.4 TP → precision envelope 1, 2/3, 2/3 at recall 0.5, 0.5, 1 → AP = 0.5 + 0.5·2/3.
    assert localiser.average_precision(preds, truth) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert localiser.average_precision([[]], [[[0, 0, 1, 1]]]) == 0.0


def test_view_boxes_follow_flips_and_crops():
    b = [[0.1, 0.2, 0.3, 0.4]]
    assert view_boxes(b, ((0, 0, 1, 1), True, False))[0] == pytest.approx([0.7, 0.2, 0.9, 0.4])
    assert view_boxes(b, ((0, 0, 1, 1), False, True))[0] == pytest.approx([0.1, 0.6, 0.3, 0.8])
    assert view_boxes(b, ((0.0, 0.0, 0.5, 0.5), False, False))[0] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert view_boxes(b, ((0.5, 0.5, 1.0, 1.0), False, False)) == []  # its centre left the window


def test_crop_rule_is_a_padded_square_inside_the_image():
    l, t, r, b = crops.crop_box([0.4, 0.4, 0.5, 0.45], 640, 480)
    assert r - l == b - t == round(max(64, 24) * 1.5) == 96
    assert (l + r) / 2 == pytest.approx(0.45 * 640, abs=1) and (t + b) / 2 == pytest.approx(0.425 * 480, abs=1)
    l, t, r, b = crops.crop_box([0.0, 0.0, 0.02, 0.02], 640, 480)
    assert (l, t) == (0, 0) and r - l == round(0.2 * 480), "at least a fifth of the short side, shifted inside"
    l, t, r, b = crops.crop_box([0.0, 0.0, 1.0, 1.0], 640, 480)
    assert r - l == 480 and 0 <= l and r <= 640


def test_the_pipeline_runs_out_of_fold_on_the_sample(tmp_path):
    from training import localise, pipeline_oof, train
    images = sorted(os.listdir(os.path.join(SAMPLE, "test", "images")))[:24]
    manifest = tmp_path / "folds.csv"
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "group", "class", "fold"])
        for i, fn in enumerate(images):
            w.writerow([f"test/images/{fn}", f"g{i}", "Healthy", i % 2])
    loc = tmp_path / "loc"
    localise.main(["--data", SAMPLE, "--out", str(loc), "--folds-manifest", str(manifest), "--input-size", "96",
                   "--crop-views", "1", "--epochs", "1", "--threads", "1", "--no-cache"])
    rec = json.load(open(loc / "oof-boxes.json"))
    assert sorted(rec["paths"]) == sorted(f"test/images/{fn}" for fn in images), "every image judged once"
    assert json.load(open(loc / "summary.json"))["n"] == 24
    meta = torch.load(loc / "fold-0" / "best.pt", weights_only=False)["meta"]
    assert meta["role"] == "localiser" and meta["fold"] == 0
    assert not set(meta["trained_on"]) & {p for p, k in zip(rec["paths"], rec["folds"]) if k == 0}
    runs = tmp_path / "crop"
    for k in (0, 1):
        train.main(["--data", SAMPLE, "--folds-manifest", str(manifest), "--fold", str(k), "--arch", "efficientnet_lite0",
                    "--width-mult", "0.25", "--depth-mult", "0.25", "--out", str(runs / f"fold-{k}"), "--crop-views", "2",
                    "--max-steps", "1", "--epochs", "1", "--batch-size", "4", "--input-size", "64"])
        assert os.path.exists(runs / f"fold-{k}" / "preds-test-oracle.json") and not os.path.exists(runs / f"fold-{k}" / "preds-test.json")
    whole = {"classes": rec["classes"], "paths": rec["paths"], "probabilities": [[0.1] * 10 for _ in rec["paths"]]}
    json.dump(whole, open(tmp_path / "whole.json", "w"))
    pipeline_oof.main(["--data", SAMPLE, "--boxes", str(loc / "oof-boxes.json"), "--crop-runs", str(runs),
                       "--whole", str(tmp_path / "whole.json"), "--out", str(tmp_path / "pipe"), "--threads", "1"])
    for name in ("p-crop", "p-fusion", "oracle-crop"):
        out = json.load(open(tmp_path / "pipe" / name / "oof.json"))
        assert len(out["paths"]) == 24 and all(abs(sum(p) - 1) < 1e-6 for p in out["probabilities"])
