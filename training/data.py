"""HBFMID in YOLO layout: data.yaml + {train,valid,test}/{images,labels}, or a `path,split` manifest.

A case's class is the class of its label file's first line (the notebook's rule). An empty or missing label
file makes the case *unlabelled*: it is reported and left out of training and scoring, never class 0.
Label files naming more than one class are reported (the first line still decides)."""
import csv
import os
from dataclasses import dataclass, field

import yaml

SPLITS = ("train", "valid", "test")
IMAGE_EXTS = (".jpg", ".jpeg", ".png")


class DatasetError(ValueError):
    pass


@dataclass
class Case:
    path: str            # relative to the dataset root, e.g. "train/images/x.jpg"
    split: str           # train / valid / test
    label: int | None    # None = unlabelled
    classes: list = field(default_factory=list)  # every class id in the label file, in order of first use
    problem: str = ""    # why unlabelled, or "" when labelled


@dataclass
class Dataset:
    root: str
    names: list
    cases: list

    def split(self, name):
        return [c for c in self.cases if c.split == name and c.label is not None]

    def unlabelled(self):
        return [c for c in self.cases if c.label is None]

    def multiclass(self):
        return [c for c in self.cases if len(c.classes) > 1]

    def report(self) -> str:
        lines = []
        for s in SPLITS:
            n_all = sum(1 for c in self.cases if c.split == s)
            lines.append(f"{s}: {n_all} images, {len(self.split(s))} labelled")
        un = self.unlabelled()
        if un:
            lines.append(f"unlabelled (excluded): {len(un)}: " + ", ".join(f"{c.path} ({c.problem})" for c in un))
        mc = self.multiclass()
        if mc:
            lines.append(f"label files with several classes (first line used): {len(mc)}")
        return "\n".join(lines)


def read_names(root: str) -> list:
    path = os.path.join(root, "data.yaml")
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise DatasetError(f"{path}: cannot read data.yaml ({e.__class__.__name__}: {str(e).splitlines()[0]})")
    names = doc.get("names") if isinstance(doc, dict) else None
    if isinstance(names, dict):  # YOLOv8 style {0: name, ...}
        names = [names[k] for k in sorted(names)]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise DatasetError(f"{path}: `names` must be a non-empty list of class names")
    nc = doc.get("nc")
    if nc is not None and nc != len(names):
        raise DatasetError(f"{path}: nc is {nc} but names has {len(names)} entries")
    return names


def label_path_for(image_rel: str) -> str:
    """train/images/x.jpg → train/labels/x.txt (YOLO convention: last `images` directory → `labels`)."""
    d, base = os.path.split(image_rel)
    parts = d.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return os.path.join("/".join(parts), os.path.splitext(base)[0] + ".txt")


def read_case(root: str, image_rel: str, split: str, n_classes: int) -> Case:
    lp = os.path.join(root, label_path_for(image_rel))
    if not os.path.exists(lp):
        return Case(image_rel, split, None, [], "missing label file")
    classes = []
    with open(lp) as f:
        for lineno, line in enumerate(f, 1):
            tok = line.split()
            if not tok:
                continue
            try:
                cid = int(tok[0])
            except ValueError:
                return Case(image_rel, split, None, [], f"label line {lineno} has no class id")
            if not 0 <= cid < n_classes:
                return Case(image_rel, split, None, [], f"class id {cid} out of range on line {lineno}")
            if cid not in classes:
                classes.append(cid)
    if not classes:
        return Case(image_rel, split, None, [], "empty label file")
    return Case(image_rel, split, classes[0], classes, "")


def load(root: str, manifest: str | None = None) -> Dataset:
    names = read_names(root)
    cases = []
    if manifest:
        for rel, split in read_manifest(manifest):
            if not os.path.exists(os.path.join(root, rel)):
                raise DatasetError(f"{manifest}: {rel} does not exist under {root}")
            cases.append(read_case(root, rel, split, len(names)))
    else:
        for s in SPLITS:
            d = os.path.join(root, s, "images")
            if not os.path.isdir(d):
                continue
            for fn in sorted(os.listdir(d)):
                if fn.lower().endswith(IMAGE_EXTS):
                    cases.append(read_case(root, f"{s}/images/{fn}", s, len(names)))
    if not cases:
        raise DatasetError(f"{root}: no images found")
    return Dataset(root, names, cases)


def read_manifest(path: str):
    aliases = {"train": "train", "valid": "valid", "val": "valid", "validation": "valid", "test": "test"}
    out = []
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or [h.strip() for h in rows[0][:2]] != ["path", "split"]:
        raise DatasetError(f"{path}: expected a CSV header `path,split`")
    for i, row in enumerate(rows[1:], 2):
        if not row or not row[0].strip():
            continue
        if len(row) < 2 or row[1].strip().lower() not in aliases:
            raise DatasetError(f"{path}: line {i}: split must be train, valid or test")
        out.append((row[0].strip(), aliases[row[1].strip().lower()]))
    return out


def source_group(path: str) -> str:
    """Roboflow augments each source image before splitting; copies share the name before `.rf.`."""
    base = os.path.basename(path)
    return base.split(".rf.")[0] if ".rf." in base else os.path.splitext(base)[0]
