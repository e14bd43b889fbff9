"""Scores a run's predictions (preds-test.json from train.py, oof.json from oof.py, or any
{classes, paths, labels, probabilities}).

Accuracy, macro-F1 (sklearn convention: over the classes that occur in the labels or the predictions),
per-class recall (classes present in the labels), confusion matrix, the critical errors
(Comminuted→Transverse Displaced, Transverse Displaced→Healthy) and seeded percentile 95 % CIs on accuracy and
macro-F1. When the record has `groups` (one source X-ray and its copies each) the CI is a **group bootstrap**:
groups are resampled with replacement, never single images, since copies of one source are not independent.
With `folds`, ECE (15 equal-width bins) is given before and after a temperature fitted out-of-fold (for each
fold, fitted on the other folds' predictions). With `cams` and `boxes`, the pointing game (see `pointing_game`).

    python3 training/evaluate.py training/runs/lite0-grouped/preds-test.json [--json] [--tta]
"""
import argparse
import json
import sys

import numpy as np

CRITICAL = [("Comminuted", "Transverse Displaced"), ("Transverse Displaced", "Healthy")]


def confusion(y, p, n):
    m = np.zeros((n, n), dtype=int)
    np.add.at(m, (y, p), 1)
    return m


def macro_f1(m):
    """Over the classes that occur in the labels or the predictions of confusion matrix m."""
    n = len(m)
    used = [c for c in range(n) if m[c].sum() > 0 or m[:, c].sum() > 0]
    f1s = []
    for c in used:
        tp = m[c, c]
        prec = tp / m[:, c].sum() if m[:, c].sum() else 0.0
        rec = tp / m[c].sum() if m[c].sum() else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def bootstrap_ci(correct, n_boot=2000, seed=0, level=0.95):
    rng = np.random.default_rng(seed)
    correct = np.asarray(correct, dtype=float)
    idx = rng.integers(0, len(correct), size=(n_boot, len(correct)))
    accs = correct[idx].mean(1)
    lo, hi = np.quantile(accs, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def group_bootstrap(y, p, groups, n_classes, n_boot=2000, seed=0, level=0.95):
    """Percentile CIs of accuracy and macro-F1 from resampling whole groups with replacement (each resample draws
    as many groups as there are, and takes every image of each drawn group)."""
    rng = np.random.default_rng(seed)
    names, inverse = np.unique(np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(names))]
    accs, f1s = np.empty(n_boot), np.empty(n_boot)
    for b in range(n_boot):
        idx = np.concatenate([members[g] for g in rng.integers(0, len(members), size=len(members))])
        accs[b] = (p[idx] == y[idx]).mean()
        f1s[b] = macro_f1(confusion(y[idx], p[idx], n_classes))
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    return tuple(float(v) for v in np.quantile(accs, q)), tuple(float(v) for v in np.quantile(f1s, q))


def image_bootstrap_f1(y, p, n_classes, n_boot=2000, seed=0, level=0.95):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n_boot, len(y)))
    f1s = [macro_f1(confusion(y[i], p[i], n_classes)) for i in idx]
    return tuple(float(v) for v in np.quantile(f1s, [(1 - level) / 2, 1 - (1 - level) / 2]))


def ece(probs, y, bins=15):
    """Expected calibration error of the top-1 confidence, equal-width bins over (0, 1]."""
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            total += sel.mean() * abs((pred[sel] == y[sel]).mean() - conf[sel].mean())
    return float(total)


def with_temperature(probs, t):
    z = np.log(np.clip(probs, 1e-12, 1)) / t
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(probs, y):
    """The T minimising the NLL of softmax(log p / T): golden-section search on log T in [log 0.05, log 20]."""
    def nll(log_t):
        q = with_temperature(probs, np.exp(log_t))
        return -np.log(np.clip(q[np.arange(len(y)), y], 1e-12, 1)).mean()
    lo, hi = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2))


def out_of_fold_temperature(probs, y, fold_ids):
    """Each fold's probabilities rescaled by the temperature fitted on the other folds; and those temperatures."""
    out = np.empty_like(probs)
    temps = {}
    for f in np.unique(fold_ids):
        sel = fold_ids == f
        temps[int(f)] = fit_temperature(probs[~sel], y[~sel])
        out[sel] = with_temperature(probs[sel], temps[int(f)])
    return out, temps


def cam_peak_cell(cam):
    """(row, col) of the map's maximum, the first in row-major order on ties."""
    cam = np.asarray(cam)
    r, c = np.unravel_index(int(np.argmax(cam)), cam.shape)
    return int(r), int(c)


def pointing_hit(cam, boxes, strict=False):
    """Whether the CAM maximum falls in one of the boxes [class, cx, cy, w, h] (normalised image coordinates).
    The maximum is a cell of the feature map, mapped back to the image as the rectangle it covers; it hits when
    that rectangle overlaps a box (`strict`: when the cell's centre lies inside a box). None without boxes."""
    if not boxes:
        return None
    h, w = np.asarray(cam).shape
    r, c = cam_peak_cell(cam)
    x0, x1, y0, y1 = c / w, (c + 1) / w, r / h, (r + 1) / h
    for _, cx, cy, bw, bh in boxes:
        bx0, bx1, by0, by1 = cx - bw / 2, cx + bw / 2, cy - bh / 2, cy + bh / 2
        if strict:
            if bx0 <= (x0 + x1) / 2 <= bx1 and by0 <= (y0 + y1) / 2 <= by1:
                return True
        elif x0 < bx1 and bx0 < x1 and y0 < by1 and by0 < y1:
            return True
    return False


def cam_mass_in_boxes(cam, boxes):
    """Share of the map's mass in cells whose centre lies inside a box."""
    cam = np.asarray(cam, dtype=float)
    h, w = cam.shape
    total = cam.sum()
    if not boxes or total <= 0:
        return None
    inside = 0.0
    for r in range(h):
        for c in range(w):
            x, yy = (c + 0.5) / w, (r + 0.5) / h
            if any(cx - bw / 2 <= x <= cx + bw / 2 and cy - bh / 2 <= yy <= cy + bh / 2 for _, cx, cy, bw, bh in boxes):
                inside += cam[r, c]
    return float(inside / total)


def pointing_game(cams, boxes):
    hits = [pointing_hit(c, b) for c, b in zip(cams, boxes)]
    strict = [pointing_hit(c, b, strict=True) for c, b in zip(cams, boxes)]
    mass = [cam_mass_in_boxes(c, b) for c, b in zip(cams, boxes)]
    valid = [h for h in hits if h is not None]
    return {"pointing_game": float(np.mean(valid)) if valid else None,
            "pointing_game_strict": float(np.mean([h for h in strict if h is not None])) if valid else None,
            "cam_mass_in_boxes": float(np.mean([m for m in mass if m is not None])) if valid else None,
            "pointing_n": len(valid)}


def score(rec, n_boot=2000, seed=0, tta=False):
    names = rec["classes"]
    n = len(names)
    y = np.asarray(rec["labels"], dtype=int)
    probs = np.asarray(rec["probabilities_hflip_tta" if tta else "probabilities"], dtype=float)
    p = probs.argmax(1)
    m = confusion(y, p, n)
    crit = {f"{a}→{b}": int(m[names.index(a), names.index(b)]) for a, b in CRITICAL}
    if rec.get("groups"):
        acc_ci, f1_ci = group_bootstrap(y, p, rec["groups"], n, n_boot, seed)
        method = "group bootstrap"
    else:
        acc_ci, f1_ci = bootstrap_ci(p == y, n_boot, seed), image_bootstrap_f1(y, p, n, n_boot, seed)
        method = "bootstrap"
    out = {
        "n": int(len(y)),
        "groups": len(set(rec["groups"])) if rec.get("groups") else None,
        "accuracy": float((p == y).mean()),
        "accuracy_ci95": acc_ci,
        "macro_f1": macro_f1(m),
        "macro_f1_ci95": f1_ci,
        "ci_method": method,
        "recall": {names[c]: float(m[c, c] / m[c].sum()) for c in range(n) if m[c].sum()},
        "critical_errors": sum(crit.values()),
        "critical_detail": crit,
        "confusion": m.tolist(),
        "ece": ece(probs, y),
    }
    if rec.get("folds"):
        scaled, temps = out_of_fold_temperature(probs, y, np.asarray(rec["folds"]))
        out["ece_temperature_oof"] = ece(scaled, y)
        out["temperatures"] = temps
    if rec.get("cams") and rec.get("boxes"):
        out.update(pointing_game(rec["cams"], rec["boxes"]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("preds", nargs="+")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tta", action="store_true", help="score the horizontal-flip TTA probabilities (oof.json)")
    a = ap.parse_args(argv)
    for path in a.preds:
        with open(path) as f:
            s = score(json.load(f), a.bootstrap, a.seed, a.tta)
        if a.json:
            print(json.dumps({"preds": path, **s}))
            continue
        lo, hi = s["accuracy_ci95"]
        flo, fhi = s["macro_f1_ci95"]
        groups = f", {s['groups']} groups" if s["groups"] else ""
        print(f"{path}: n={s['n']}{groups} accuracy {s['accuracy']:.3f} (95% CI {lo:.3f}–{hi:.3f})  "
              f"macro-F1 {s['macro_f1']:.3f} ({flo:.3f}–{fhi:.3f}; {s['ci_method']})  "
              f"critical errors {s['critical_errors']} {s['critical_detail']}")
        print("  recall: " + ", ".join(f"{k} {v:.2f}" for k, v in s["recall"].items()))
        extra = f"  ECE {s['ece']:.3f}"
        if "ece_temperature_oof" in s:
            extra += f", after out-of-fold temperature {s['ece_temperature_oof']:.3f}"
        if s.get("pointing_game") is not None:
            extra += (f"; pointing game {s['pointing_game']:.3f} (strict {s['pointing_game_strict']:.3f}), "
                      f"CAM mass in boxes {s['cam_mass_in_boxes']:.3f}, n={s['pointing_n']}")
        print(extra)


if __name__ == "__main__":
    sys.exit(main())
