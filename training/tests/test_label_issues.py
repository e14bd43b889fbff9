"""fracview's label-issue ranking (`fracview audit --label-issues`): the score, flag and suggestion against a numpy
reference of confident learning on the probabilities fracview reports, and the ranking against cleanlab on a
seeded noisy copy of HBFMID (training/label_noise_check.py)."""
import json
import os
import subprocess

import numpy as np
import pytest

from conftest import REPO, SAMPLE

FRACVIEW = os.environ.get("FRACVIEW_BIN", "")
ENSEMBLE = os.path.join(REPO, "Tests", "Fixtures", "review", "ensemble")


def fracview_or_skip():
    if not (FRACVIEW and os.access(FRACVIEW, os.X_OK)):
        pytest.skip("FRACVIEW_BIN is not set to the built fracview binary (scripts/test.sh sets it)")
    return FRACVIEW


def dataset_or_skip():
    for base in [os.environ.get("FRACVIEW_DATASETS", "")] + [os.path.join(REPO, *[".."] * i, "shared", "datasets")
                                                            for i in (1, 2, 3)]:
        if base and os.path.exists(os.path.join(base, "hbfmid", "data.yaml")):
            return os.path.join(base, "hbfmid")
    pytest.skip("the HBFMID dataset is not present (../shared/datasets/hbfmid)")


def reference(probs, labels, k):
    """Confident learning in numpy: thresholds, flag, suggestion, score = 1 − p(given)."""
    t = np.array([probs[labels == j, j].mean() if (labels == j).any() else np.inf for j in range(k)])
    out = []
    for p, y in zip(probs, labels):
        clears = [j for j in range(k) if p[j] >= t[j]]
        flagged = p[y] < t[y] and any(j != y for j in clears)
        pool = clears or list(range(k))
        suggested = max(pool, key=lambda j: (p[j], -j))
        out.append((1 - p[y], flagged, suggested))
    return out


def test_label_issue_scores_match_numpy_reference():
    binary = fracview_or_skip()
    res = subprocess.run([binary, "audit", SAMPLE, "--label-issues", "--json", "--weights", ENSEMBLE],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    names = ["Comminuted", "Greenstick", "Healthy", "Linear", "Oblique Displaced", "Oblique", "Segmental", "Spiral",
             "Transverse Displaced", "Transverse"]
    assert len(rows) == 64  # every labelled case of the bundled sample
    held = [r for r in rows if not r["seen_in_training"]]
    seen = [r for r in rows if r["seen_in_training"]]
    assert rows[:len(held)] == held, "held-out cases come first, seen ones last"
    probs = np.array([r["probabilities"] for r in held], dtype=np.float64)
    labels = np.array([names.index(r["given"]) for r in held])
    ref = reference(probs, labels, len(names))
    for r, (score, flagged, suggested) in zip(held, ref):
        assert abs(r["score"] - score) < 1e-5, r["image"]
        assert abs(r["self_confidence"] - (1 - score)) < 1e-5
        assert r["flagged"] == flagged, r["image"]
        assert r["suggested"] == names[suggested], r["image"]
    scores = [r["score"] for r in held]
    assert scores == sorted(scores, reverse=True), "ranked most likely error first"
    assert 0 < sum(r["flagged"] for r in held) < len(held)
    # The fixture's members saw only 3 of the bundled images (see make_ensemble_fixture.py); one was seen by both.
    assert len(seen) == 1


def test_fracview_ranks_flipped_labels_at_least_as_well_as_cleanlab():
    pytest.importorskip("cleanlab")
    binary, data = fracview_or_skip(), dataset_or_skip()
    from training import label_noise_check
    r = label_noise_check.run(data, binary, None, fraction=0.1, seed=0, subset=300)
    assert r["flipped"] >= 20
    assert r["fracview"]["auroc"] > 0.5, r
    assert r["fracview"]["auroc"] >= r["cleanlab"]["auroc"] - 1e-9, r
    assert r["fracview"]["precision_at_k"] >= r["cleanlab"]["precision_at_k"] - 1e-9, r
