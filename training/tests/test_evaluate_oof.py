"""evaluate.py's out-of-fold scoring: group bootstrap CIs, temperature scaling fitted out of fold, ECE, and the
CAM pointing game."""
import numpy as np
import pytest

from training import evaluate

N_BOOT = 200


# ---- independent references ----

def ref_macro_f1(y, p):
    """sklearn's macro-F1: mean over the classes present in y or p."""
    f1s = []
    for c in sorted(set(y.tolist()) | set(p.tolist())):
        tp = int(np.sum((y == c) & (p == c)))
        fp = int(np.sum((y != c) & (p == c)))
        fn = int(np.sum((y == c) & (p != c)))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s))


def ref_group_bootstrap(y, p, groups, n_boot, seed, level=0.95):
    rng = np.random.default_rng(seed)
    names = sorted(set(groups))
    members = [[i for i, g in enumerate(groups) if g == name] for name in names]
    G = len(names)
    accs, f1s = [], []
    for _ in range(n_boot):
        idx = [i for d in rng.integers(0, G, size=G) for i in members[d]]
        yy, pp = y[idx], p[idx]
        accs.append(float(np.mean(yy == pp)))
        f1s.append(ref_macro_f1(yy, pp))
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    return tuple(np.quantile(accs, q)), tuple(np.quantile(f1s, q))


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def nll(probs, y, t):
    q = softmax(np.log(np.clip(probs, 1e-12, 1)) / t)
    return -np.mean(np.log(q[np.arange(len(y)), y]))


def calibration_data(rng, n, k, sharpen):
    """Labels drawn from softmax(z), reported probabilities softmax(sharpen * z): the best temperature is ~sharpen."""
    z = rng.normal(0, 1.5, size=(n, k))
    y = np.array([rng.choice(k, p=q) for q in softmax(z)])
    return softmax(sharpen * z), y


# ---- group bootstrap ----

def random_grouped(seed=1, n=60, n_groups=17, n_classes=4):
    rng = np.random.default_rng(seed)
    # unequal group sizes: every group at least one image, the rest spread at random; names not in index order
    sizes = np.ones(n_groups, dtype=int) + np.bincount(rng.integers(0, n_groups, size=n - n_groups), minlength=n_groups)
    names = [f"src{v:03d}" for v in rng.permutation(1000)[:n_groups]]
    groups = [names[g] for g, s in enumerate(sizes) for _ in range(s)]
    order = rng.permutation(n)
    groups = [groups[i] for i in order]
    y = rng.integers(0, n_classes, size=n)
    p = np.where(rng.random(n) < 0.6, y, rng.integers(0, n_classes, size=n))
    return y, p, groups


@pytest.mark.parametrize("seed", [0, 7])
def test_group_bootstrap_matches_reference(seed):
    y, p, groups = random_grouped()
    assert len(set(groups)) == 17 and len(y) == 60
    assert len({groups.count(g) for g in set(groups)}) > 1  # unequal sizes
    (alo, ahi), (flo, fhi) = evaluate.group_bootstrap(y, p, groups, 4, N_BOOT, seed)
    (rlo, rhi), (rflo, rfhi) = ref_group_bootstrap(y, p, groups, N_BOOT, seed)
    assert alo == pytest.approx(rlo, abs=1e-12) and ahi == pytest.approx(rhi, abs=1e-12)
    assert flo == pytest.approx(rflo, abs=1e-12) and fhi == pytest.approx(rfhi, abs=1e-12)
    assert alo <= float(np.mean(y == p)) <= ahi
    assert 0 <= flo <= fhi <= 1


def test_group_bootstrap_seeded_and_numpy_groups():
    y, p, groups = random_grouped()
    a = evaluate.group_bootstrap(y, p, groups, 4, N_BOOT, 3)
    assert evaluate.group_bootstrap(y, p, groups, 4, N_BOOT, 3) == a
    assert evaluate.group_bootstrap(y, p, np.array(groups), 4, N_BOOT, 3) == a
    assert evaluate.group_bootstrap(y, p, groups, 4, N_BOOT, 4) != a


def test_group_bootstrap_perfect_predictions():
    y, _, groups = random_grouped()
    assert evaluate.group_bootstrap(y, y.copy(), groups, 4, N_BOOT, 0) == ((1.0, 1.0), (1.0, 1.0))


def test_group_ci_wider_than_image_ci_for_copies():
    """20 source X-rays × 10 identical copies: the image bootstrap treats 200 images as independent and is far too
    narrow; the group bootstrap sees 20 independent units."""
    rng = np.random.default_rng(5)
    n_groups, copies, n_classes = 20, 10, 4
    y_g = rng.integers(0, n_classes, size=n_groups)
    p_g = np.where(np.arange(n_groups) < 13, y_g, (y_g + 1) % n_classes)  # 13 of 20 sources right
    y, p = np.repeat(y_g, copies), np.repeat(p_g, copies)
    groups = [f"g{g}" for g in range(n_groups) for _ in range(copies)]
    (glo, ghi), (gflo, gfhi) = evaluate.group_bootstrap(y, p, groups, n_classes, N_BOOT, 0)
    ilo, ihi = evaluate.bootstrap_ci(p == y, N_BOOT, 0)
    iflo, ifhi = evaluate.image_bootstrap_f1(y, p, n_classes, N_BOOT, 0)
    assert ghi - glo > 1.5 * (ihi - ilo)
    assert gfhi - gflo > 1.5 * (ifhi - iflo)
    for lo, hi in ((glo, ghi), (ilo, ihi)):
        assert lo <= 0.65 <= hi


# ---- temperature and ECE ----

@pytest.mark.parametrize("seed,sharpen", [(0, 3.0), (1, 0.4), (2, 1.0)])
def test_fit_temperature_matches_grid_search(seed, sharpen):
    probs, y = calibration_data(np.random.default_rng(seed), 300, 4, sharpen)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 4001))
    t_grid = grid[np.argmin([nll(probs, y, t) for t in grid])]
    t = evaluate.fit_temperature(probs, y)
    assert t == pytest.approx(t_grid, rel=0.01)
    assert nll(probs, y, t) <= nll(probs, y, t_grid) + 1e-9
    # over-confident probabilities (sharpen > 1) need T > 1 to soften them, under-confident T < 1
    if sharpen > 1.5:
        assert t > 1.5
    if sharpen < 0.7:
        assert t < 0.7


def test_with_temperature_identity_and_rows_sum_to_one():
    probs, _ = calibration_data(np.random.default_rng(0), 20, 5, 2.0)
    assert np.allclose(evaluate.with_temperature(probs, 1.0), probs, atol=1e-12)
    q = evaluate.with_temperature(probs, 0.3)
    assert np.allclose(q.sum(1), 1) and (q.argmax(1) == probs.argmax(1)).all()
    assert (q.max(1) >= probs.max(1) - 1e-12).all()  # T < 1 sharpens


def test_ece_hand_example():
    # confidences 0.9 (right), 0.7 (wrong), 0.55 (right), 0.57 (wrong); 15 bins of width 1/15:
    # 0.9 → (0.867, 0.933], 0.7 → (0.667, 0.733], 0.55 and 0.57 → (0.533, 0.6]
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.55, 0.45], [0.43, 0.57]])
    y = np.array([0, 0, 0, 0])
    expect = 0.25 * abs(1 - 0.9) + 0.25 * abs(0 - 0.7) + 0.5 * abs(0.5 - (0.55 + 0.57) / 2)
    assert evaluate.ece(probs, y) == pytest.approx(expect, abs=1e-12)  # 0.23
    assert evaluate.ece(probs, y, bins=1) == pytest.approx(abs(0.5 - (0.9 + 0.7 + 0.55 + 0.57) / 4), abs=1e-12)
    assert evaluate.ece(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])) == 0.0  # confidence 1 is binned


def oof_data():
    rng = np.random.default_rng(11)
    probs, y = calibration_data(rng, 240, 4, 2.5)
    fold_ids = np.repeat(np.arange(3), 80)
    return probs, y, fold_ids


def test_out_of_fold_temperature_uses_other_folds():
    probs, y, fold_ids = oof_data()
    scaled, temps = evaluate.out_of_fold_temperature(probs, y, fold_ids)
    assert sorted(temps) == [0, 1, 2]
    for f in range(3):
        sel = fold_ids == f
        assert temps[f] == evaluate.fit_temperature(probs[~sel], y[~sel])
        assert np.array_equal(scaled[sel], evaluate.with_temperature(probs[sel], temps[f]))

    # Fold 0 made very different (far sharper probabilities): fold 0's own temperature must not move (fitted on
    # folds 1 and 2 only), fold 1's must (fold 0 is part of its fitting data).
    probs2 = probs.copy()
    probs2[fold_ids == 0] = evaluate.with_temperature(probs[fold_ids == 0], 0.2)
    scaled2, temps2 = evaluate.out_of_fold_temperature(probs2, y, fold_ids)
    assert temps2[0] == temps[0]
    assert abs(temps2[1] - temps[1]) > 0.05 * temps[1]
    assert abs(temps2[2] - temps[2]) > 0.05 * temps[2]
    assert np.array_equal(scaled2[fold_ids == 1], evaluate.with_temperature(probs[fold_ids == 1], temps2[1]))


def test_out_of_fold_temperature_lowers_ece_of_overconfident():
    probs, y, fold_ids = oof_data()
    scaled, temps = evaluate.out_of_fold_temperature(probs, y, fold_ids)
    assert all(t > 1.5 for t in temps.values())
    assert evaluate.ece(scaled, y) < evaluate.ece(probs, y)


# ---- CAM pointing game ----

def cam7(peak=(2, 5)):
    cam = np.full((7, 7), 0.1)
    cam[peak] = 1.0
    return cam


def test_cam_peak_cell_ties_row_major():
    cam = np.zeros((7, 7))
    cam[3, 1] = cam[1, 5] = cam[1, 4] = 2.0
    assert evaluate.cam_peak_cell(cam) == (1, 4)
    assert evaluate.cam_peak_cell(np.ones((7, 7))) == (0, 0)
    assert evaluate.cam_peak_cell(cam7((6, 0))) == (6, 0)
    assert evaluate.cam_peak_cell([[0, 1], [1, 0]]) == (0, 1)


def test_pointing_hit_overlap_vs_centre():
    cam = cam7((2, 5))  # peak cell covers x ∈ [5/7, 6/7] = [.714, .857], y ∈ [2/7, 3/7] = [.286, .429]
    centre = [0, 0.78, 0.36, 0.10, 0.10]  # contains the cell centre (.786, .357)
    edge = [0, 0.70, 0.36, 0.04, 0.10]    # x ∈ [.68, .72]: overlaps the cell, misses its centre
    far = [0, 0.10, 0.10, 0.10, 0.10]
    transposed = [0, 2.5 / 7, 5.5 / 7, 0.1, 0.1]  # where the peak would be with rows and columns swapped
    assert evaluate.pointing_hit(cam, [centre]) is True
    assert evaluate.pointing_hit(cam, [centre], strict=True) is True
    assert evaluate.pointing_hit(cam, [edge]) is True
    assert evaluate.pointing_hit(cam, [edge], strict=True) is False
    assert evaluate.pointing_hit(cam, [far]) is False
    assert evaluate.pointing_hit(cam, [far], strict=True) is False
    assert evaluate.pointing_hit(cam, [transposed]) is False
    assert evaluate.pointing_hit(cam, [far, edge]) is True  # any box
    assert evaluate.pointing_hit(cam, [far, edge], strict=True) is False
    assert evaluate.pointing_hit(cam, [far, centre], strict=True) is True
    assert evaluate.pointing_hit(cam, []) is None
    assert evaluate.pointing_hit(cam, [], strict=True) is None


def test_pointing_hit_touching_edge_is_not_overlap():
    cam = np.zeros((4, 4))
    cam[0, 1] = 1  # cell x ∈ [0.25, 0.5], y ∈ [0, 0.25] (exact in binary)
    assert evaluate.pointing_hit(cam, [[0, 0.125, 0.5, 0.25, 1.0]]) is False  # box ends at x = 0.25
    assert evaluate.pointing_hit(cam, [[0, 0.13, 0.5, 0.25, 1.0]]) is True
    # non-square map: rows map to y, columns to x
    cam = np.zeros((2, 4))
    cam[1, 3] = 1  # x ∈ [0.75, 1], y ∈ [0.5, 1]
    assert evaluate.pointing_hit(cam, [[0, 0.875, 0.75, 0.1, 0.1]], strict=True) is True
    assert evaluate.pointing_hit(cam, [[0, 0.875, 0.25, 0.1, 0.1]]) is False


def test_cam_mass_in_boxes():
    ones = np.ones((4, 4))
    left_half = [0, 0.25, 0.5, 0.5, 1.0]  # cell centres x = .125 and .375 inside
    assert evaluate.cam_mass_in_boxes(ones, [left_half]) == pytest.approx(0.5)
    assert evaluate.cam_mass_in_boxes(ones, [left_half, left_half]) == pytest.approx(0.5)  # no double counting
    ramp = np.arange(1, 17, dtype=float).reshape(4, 4)
    top_left = [0, 0.125, 0.125, 0.1, 0.1]
    assert evaluate.cam_mass_in_boxes(ramp, [top_left]) == pytest.approx(1 / 136)
    bottom_row = [0, 0.5, 0.875, 1.0, 0.1]
    assert evaluate.cam_mass_in_boxes(ramp, [bottom_row]) == pytest.approx((13 + 14 + 15 + 16) / 136)
    assert evaluate.cam_mass_in_boxes(ramp, [[0, 0.5, 0.5, 1.0, 1.0]]) == pytest.approx(1.0)
    assert evaluate.cam_mass_in_boxes(ones, []) is None
    assert evaluate.cam_mass_in_boxes(np.zeros((4, 4)), [left_half]) is None


def test_pointing_game_aggregate():
    cams = [cam7((2, 5)), cam7((2, 5)), cam7((0, 0))]
    boxes = [[[0, 0.70, 0.36, 0.04, 0.10]], [[0, 0.78, 0.36, 0.1, 0.1]], []]
    g = evaluate.pointing_game(cams, boxes)
    assert g["pointing_n"] == 2
    assert g["pointing_game"] == 1.0
    assert g["pointing_game_strict"] == 0.5


# ---- score ----

CLASSES = ["Healthy", "Comminuted", "Transverse Displaced", "Spiral"]


def record(*extra):
    y, p, groups = random_grouped()
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.ones(4), size=len(y)) * 0.5
    probs[np.arange(len(y)), p] += 0.5  # argmax is p
    rec = {"classes": CLASSES, "paths": [f"x{i}.jpg" for i in range(len(y))], "labels": y.tolist(),
           "probabilities": probs.tolist()}
    for key in extra:
        rec[key] = {"groups": groups, "folds": [sorted(set(groups)).index(g) % 3 for g in groups]}[key]
    return rec, y, p, groups


def test_score_image_bootstrap_without_groups():
    rec, y, p, _ = record()
    s = evaluate.score(rec, n_boot=N_BOOT)
    assert s["ci_method"] == "bootstrap" and s["groups"] is None
    assert s["accuracy_ci95"] == evaluate.bootstrap_ci(p == y, N_BOOT, 0)
    assert s["macro_f1_ci95"] == evaluate.image_bootstrap_f1(y, p, 4, N_BOOT, 0)
    assert s["macro_f1"] == pytest.approx(ref_macro_f1(y, p), abs=1e-12)
    assert "ece_temperature_oof" not in s and "temperatures" not in s


def test_score_group_bootstrap_with_groups():
    rec, y, p, groups = record("groups")
    s = evaluate.score(rec, n_boot=N_BOOT, seed=1)
    assert s["ci_method"] == "group bootstrap"
    assert s["groups"] == 17
    acc_ci, f1_ci = evaluate.group_bootstrap(y, p, groups, 4, N_BOOT, 1)
    assert s["accuracy_ci95"] == acc_ci and s["macro_f1_ci95"] == f1_ci
    assert "ece_temperature_oof" not in s


def test_score_folds_adds_oof_temperature():
    rec, y, _, _ = record("groups", "folds")
    s = evaluate.score(rec, n_boot=N_BOOT)
    assert s["ci_method"] == "group bootstrap"
    probs = np.asarray(rec["probabilities"])
    scaled, temps = evaluate.out_of_fold_temperature(probs, y, np.asarray(rec["folds"]))
    assert s["temperatures"] == temps and sorted(temps) == [0, 1, 2]
    assert s["ece_temperature_oof"] == pytest.approx(evaluate.ece(scaled, y), abs=1e-12)
    assert s["ece"] == pytest.approx(evaluate.ece(probs, y), abs=1e-12)
