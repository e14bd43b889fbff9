"""Grouped cross-validation folds: the committed manifest training/splits/hbfmid-folds.csv (written by
`fracview audit DATASET --write-folds FILE`) and `folds.fold_split`, which turns fold k into a train/valid/test
assignment."""
import os
import subprocess
from collections import Counter, defaultdict

import pytest

from training import data, folds

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MANIFEST = os.path.join(REPO, "training", "splits", "hbfmid-folds.csv")
K = 5
UNLABELLED_PREFIX = "114_jpg.rf."  # the three train images with empty label files


def real_dataset():
    """$FRACVIEW_DATASETS/hbfmid, else shared/datasets/hbfmid beside the repository (or beside a folder above it,
    as for a git worktree), the same lookup as the Swift tests; None when absent."""
    bases = []
    if os.environ.get("FRACVIEW_DATASETS"):
        bases.append(os.environ["FRACVIEW_DATASETS"])
    d = REPO
    for _ in range(3):
        d = os.path.dirname(d)
        bases.append(os.path.join(d, "shared", "datasets"))
    for b in bases:
        root = os.path.join(b, "hbfmid")
        if os.path.exists(os.path.join(root, "data.yaml")):
            return root
    return None


def fracview_bin():
    b = os.environ.get("FRACVIEW_BIN")
    return b if b and os.path.isfile(b) and os.access(b, os.X_OK) else None


@pytest.fixture(scope="module")
def rows():
    return folds.read(MANIFEST)


def by_group(rows):
    out = defaultdict(list)
    for r in rows:
        out[r["group"]].append(r)
    return out


# ---- the committed manifest ----

def test_manifest_header_and_fold_count(rows):
    with open(MANIFEST, newline="") as f:
        assert f.readline().rstrip("\r\n") == ",".join(folds.HEADER)
    assert folds.fold_count(rows) == K
    assert {r["fold"] for r in rows} == set(range(K))


def test_manifest_no_group_crosses_folds(rows):
    fold_sets = {g: sorted({r["fold"] for r in rs}) for g, rs in by_group(rows).items()}
    crossing = {g: fs for g, fs in fold_sets.items() if len(fs) > 1}
    assert not crossing, f"groups in more than one fold: {crossing}"


def test_manifest_fold_sizes_balanced(rows):
    n = len(rows)
    sizes = Counter(r["fold"] for r in rows)
    for k in range(K):
        share = sizes[k] / n
        assert 0.15 <= share <= 0.25, f"fold {k} has {sizes[k]}/{n} = {share:.3f} of the rows"


def test_manifest_stratified_by_class(rows):
    groups_of = defaultdict(set)
    folds_of = defaultdict(set)
    for r in rows:
        groups_of[r["class"]].add(r["group"])
        folds_of[r["class"]].add(r["fold"])
    checked = 0
    for c, gs in groups_of.items():
        if len(gs) >= K:
            checked += 1
            assert folds_of[c] == set(range(K)), f"class {c!r} ({len(gs)} groups) is missing from folds " \
                f"{sorted(set(range(K)) - folds_of[c])}"
    assert checked >= 5  # HBFMID: most of its 10 classes have >= 5 source X-rays


def test_manifest_paths_unique_and_sorted(rows):
    paths = [r["path"] for r in rows]
    assert len(set(paths)) == len(paths)
    assert paths == sorted(paths)
    for p in paths:
        assert p.split("/")[0] in data.SPLITS and "/images/" in p, p
        assert p.lower().endswith(data.IMAGE_EXTS), p


def test_manifest_excludes_unlabelled(rows):
    assert not [r["path"] for r in rows if os.path.basename(r["path"]).startswith(UNLABELLED_PREFIX)]
    root = real_dataset()
    if root is None:
        pytest.skip("dataset hbfmid not found ($FRACVIEW_DATASETS or ../shared/datasets): on-disk check skipped")
    imgs = sorted(fn for fn in os.listdir(os.path.join(root, "train", "images")) if fn.startswith(UNLABELLED_PREFIX))
    assert len(imgs) == 3, imgs
    for fn in imgs:
        lab = os.path.join(root, "train", "labels", os.path.splitext(fn)[0] + ".txt")
        assert os.path.isfile(lab), lab
        assert os.path.getsize(lab) == 0, f"{lab} is not empty"


def test_manifest_matches_dataset_labels(rows):
    """Every labelled image is in the manifest with its class (first label line); nothing else is."""
    root = real_dataset()
    if root is None:
        pytest.skip("dataset hbfmid not found ($FRACVIEW_DATASETS or ../shared/datasets)")
    ds = data.load(root)
    labelled = {c.path: ds.names[c.label] for c in ds.cases if c.label is not None}
    assert {r["path"]: r["class"] for r in rows} == labelled
    unlabelled = [fn for fn in os.listdir(os.path.join(root, "train", "images")) if fn.startswith(UNLABELLED_PREFIX)]
    assert sorted(c.path for c in ds.unlabelled()) == sorted(f"train/images/{fn}" for fn in unlabelled)


def test_manifest_reproducible_by_fracview(tmp_path):
    b = fracview_bin()
    if b is None:
        pytest.skip("FRACVIEW_BIN not set (or not an executable file): `fracview audit --write-folds` not rerun")
    root = real_dataset()
    if root is None:
        pytest.skip("dataset hbfmid not found ($FRACVIEW_DATASETS or ../shared/datasets): folds not regenerated")
    outs = []
    for name in ("a.csv", "b.csv"):
        out = tmp_path / name
        r = subprocess.run([b, "audit", root, "--write-folds", str(out)], capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
        outs.append(out.read_bytes())
    with open(MANIFEST, "rb") as f:
        committed = f.read()
    assert outs[0] == outs[1], "two runs of `fracview audit --write-folds` differ"
    assert outs[0] == committed, "`fracview audit --write-folds` no longer reproduces training/splits/hbfmid-folds.csv"


# ---- fold_split ----

@pytest.mark.parametrize("k", range(K))
def test_fold_split_test_is_fold_k(rows, k):
    split = folds.fold_split(rows, k)
    assert set(split) == {r["path"] for r in rows}
    assert {p for p, s in split.items() if s == "test"} == {r["path"] for r in rows if r["fold"] == k}
    assert set(split.values()) == {"train", "valid", "test"}


@pytest.mark.parametrize("k", range(K))
def test_fold_split_disjoint_by_group(rows, k):
    split = folds.fold_split(rows, k)
    where = defaultdict(set)
    for r in rows:
        where[r["group"]].add(split[r["path"]])
    leaks = {g: sorted(s) for g, s in where.items() if len(s) > 1}
    assert not leaks, f"fold {k}: groups in more than one of train/valid/test: {leaks}"


@pytest.mark.parametrize("k", range(K))
def test_fold_split_valid_share(rows, k):
    split = folds.fold_split(rows, k, valid_fraction=0.15)
    c = Counter(split.values())
    share = c["valid"] / (c["valid"] + c["train"])
    assert 0.10 <= share <= 0.25, f"fold {k}: valid is {share:.3f} of the non-test rows"


def test_fold_split_deterministic(rows):
    for k in range(K):
        assert folds.fold_split(rows, k) == folds.fold_split(rows, k)
        assert folds.fold_split(list(reversed(rows)), k) == folds.fold_split(rows, k)  # not the row order either
    # The validation groups differ between folds (the hash is salted with k), not one fixed set.
    valids = [frozenset(p for p, s in folds.fold_split(rows, k).items() if s == "valid") for k in range(K)]
    assert len(set(valids)) == K


@pytest.mark.parametrize("k", [-1, K, K + 3])
def test_fold_split_unknown_fold(rows, k):
    with pytest.raises(folds.FoldsError):
        folds.fold_split(rows, k)


def test_fold_split_small_example():
    rows = [{"path": f"train/images/{g}_{i}.jpg", "group": g, "class": "A", "fold": f}
            for f, gs in enumerate([["a", "b"], ["c", "d"], ["e", "f"]]) for g in gs for i in range(3)]
    split = folds.fold_split(rows, 1, valid_fraction=0.25)
    assert {p for p, s in split.items() if s == "test"} == {r["path"] for r in rows if r["group"] in "cd"}
    # 12 non-test images, target 3: exactly one whole group of 3 is validation.
    valid_groups = {r["group"] for r in rows if split[r["path"]] == "valid"}
    assert len(valid_groups) == 1 and valid_groups <= set("abef")
    no_valid = {r["path"]: "test" if r["fold"] == 1 else "train" for r in rows}
    assert folds.fold_split(rows, 1, valid_fraction=0.0) == no_valid


# ---- read / write ----

def test_read_bad_header(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("path,split\ntrain/images/a.jpg,train\n")
    with pytest.raises(folds.FoldsError):
        folds.read(str(p))
    p.write_text("path,group,fold,class\ntrain/images/a.jpg,a,0,A\n")  # columns in the wrong order
    with pytest.raises(folds.FoldsError):
        folds.read(str(p))
    p.write_text("")
    with pytest.raises(folds.FoldsError):
        folds.read(str(p))


def test_read_bad_rows(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("path,group,class,fold\ntrain/images/a.jpg,a,A,zero\n")
    with pytest.raises(folds.FoldsError):
        folds.read(str(p))
    p.write_text("path,group,class,fold\ntrain/images/a.jpg,a,A\n")
    with pytest.raises(folds.FoldsError):
        folds.read(str(p))
    p.write_text("path,group,class,fold\n\n")
    with pytest.raises(folds.FoldsError):
        folds.read(str(p))
    p.write_text("path,group,class,fold\ntrain/images/a.jpg,a,A,0\n\ntrain/images/b.jpg,b,\"B, b\",1\n")
    assert folds.read(str(p)) == [{"path": "train/images/a.jpg", "group": "a", "class": "A", "fold": 0},
                                  {"path": "train/images/b.jpg", "group": "b", "class": "B, b", "fold": 1}]


def test_write_split_manifest_roundtrip(rows, tmp_path):
    split = folds.fold_split(rows, 2)
    out = tmp_path / "split.csv"
    folds.write_split_manifest(split, str(out))
    text = out.read_text()
    assert text.startswith("path,split\n") and "\r" not in text
    back = data.read_manifest(str(out))
    assert [p for p, _ in back] == sorted(split)
    assert dict(back) == split
