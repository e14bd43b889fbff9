"""Grouped cross-validation folds: the manifest `path,group,class,fold` written by
`fracview audit DATASET --write-folds training/splits/hbfmid-folds.csv` (K grouped, class-stratified folds; every
source X-ray and its flipped/rotated copies form one group, and a group never crosses folds).

For fold k, `fold_split` makes a `path,split` assignment: fold k is the test split (the out-of-fold images), a
deterministic share of the *other* folds' groups is the validation split (early stopping, never trained on), and
the rest is train. So no group of the test fold is ever seen in training or model selection."""
import csv
import hashlib
import zlib

HEADER = ["path", "group", "class", "fold"]


class FoldsError(ValueError):
    pass


def read(path: str) -> list[dict]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or [h.strip() for h in rows[0][:4]] != HEADER:
        raise FoldsError(f"{path}: expected a CSV header `{','.join(HEADER)}`")
    out = []
    for i, row in enumerate(rows[1:], 2):
        if not row or not row[0].strip():
            continue
        try:
            fold = int(row[3])
        except (IndexError, ValueError):
            raise FoldsError(f"{path}: line {i}: fold must be an integer")
        out.append({"path": row[0], "group": row[1], "class": row[2], "fold": fold})
    if not out:
        raise FoldsError(f"{path}: no rows")
    return out


def fold_count(rows) -> int:
    return max(r["fold"] for r in rows) + 1


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fold_split(rows, k: int, valid_fraction: float = 0.15, drop=()) -> dict:
    """path → train/valid/test for fold k. Validation groups are drawn from the other folds in the order of a
    stable hash of their names until `valid_fraction` of those images is reached. Folds in `drop` are left out
    altogether (nested cross-validation: an inner model that must not see a second fold)."""
    for f in (k, *drop):
        if not 0 <= f < fold_count(rows):
            raise FoldsError(f"fold {f} is not in the manifest (folds 0..{fold_count(rows) - 1})")
    if k in drop:
        raise FoldsError(f"fold {k} cannot be both held out and dropped")
    rows = [r for r in rows if r["fold"] not in drop]
    rest = [r for r in rows if r["fold"] != k]
    sizes = {}
    for r in rest:
        sizes[r["group"]] = sizes.get(r["group"], 0) + 1
    target = valid_fraction * len(rest)
    valid, n = set(), 0
    for g in sorted(sizes, key=lambda g: (zlib.crc32(f"{k}|{g}".encode()), g)):
        if n >= target:
            break
        valid.add(g)
        n += sizes[g]
    return {r["path"]: ("test" if r["fold"] == k else "valid" if r["group"] in valid else "train") for r in rows}


def write_split_manifest(split: dict, path: str):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path", "split"])
        for p in sorted(split):
            w.writerow([p, split[p]])
