"""Runs one RESULTS.md row in the out-of-fold setting: train.py once per fold of the folds manifest (fold k held
out), then oof.py pools the held-out predictions and evaluate.py scores them (group-bootstrap CIs).

    python3 training/cv.py a-frozen --data $D --out runs/a-frozen [--folds 0,1,2,3,4] [--threads 2] -- [train.py options]
    python3 training/cv.py --list

Each row's train.py options are below; options after `--` are appended (and win)."""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if __package__ in (None, ""):
    sys.path.insert(0, REPO)
from training import evaluate, folds  # noqa: E402

FROZEN = ["--arch", "efficientnet_lite0", "--pretrained", "--freeze-until", "7", "--cache-views", "3", "--epochs", "10"]
ROWS = {
    "a-frozen": FROZEN,                                                   # the shipped recipe
    "b-deeper": ["--arch", "efficientnet_lite0", "--pretrained", "--freeze-until", "5", "--cache-views", "3",
                 "--epochs", "15"],                                       # stages 5–7 trained too
    "c-384": FROZEN + ["--input-size", "384"],                            # higher resolution, 12×12 maps
    "d-boxes": FROZEN + ["--box-crop-views", "2", "--attention-loss", "0.5"],  # box crops + attention supervision
    "d-boxcrop": FROZEN + ["--box-crop-views", "2"],                      # box crops alone
    "cd-384-boxcrop": FROZEN + ["--input-size", "384", "--box-crop-views", "2"],  # c and d together
    # A full fine-tune: every layer trained, live augmentation (no cached views), up to 15 epochs like b-deeper,
    # stopping after 4 without a validation gain (the old split's full fine-tune peaked at epoch 4 of 11).
    "b-full": ["--arch", "efficientnet_lite0", "--pretrained", "--epochs", "15", "--early-stop", "4"],
    # The crop classifier of the localiser pipeline (#27): b-full's recipe (at most 10 epochs, for CPU) on 6 crops per image around its label boxes
    # (one exact, five jittered); scored on the crops of the localiser's out-of-fold boxes by pipeline_oof.py.
    "crop-full": ["--arch", "efficientnet_lite0", "--pretrained", "--epochs", "10", "--early-stop", "3",
                  "--crop-views", "6"],
    "a-head": ["--arch", "efficientnet_lite0", "--pretrained", "--freeze-until", "9", "--cache-views", "3",
               "--epochs", "15"],                                         # gate + MLP only (a linear-probe-like head)
}
MANIFEST = os.path.join(HERE, "splits", "hbfmid-folds.csv")


def fold_is_trained(run):
    """A fold's run is complete once train.py has written its summary and its test-fold predictions (it writes them
    last; a crop classifier's are on label-box crops, preds-test-oracle.json); a run killed before that is trained
    again."""
    return os.path.isfile(os.path.join(run, "summary.json")) and any(
        os.path.isfile(os.path.join(run, f)) for f in ("preds-test.json", "preds-test-oracle.json"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("row", nargs="?")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--data")
    ap.add_argument("--out")
    ap.add_argument("--folds-manifest", default=MANIFEST)
    ap.add_argument("--folds", help="comma-separated fold indices (default: all)")
    ap.add_argument("--resume", action="store_true",
                    help="keep the folds already trained in --out (their summary.json and test predictions exist) "
                         "and train only the others: a long row can be run over several sittings")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--nested-ensemble", action="store_true",
                    help="row f: for each outer fold k, train one inner model per other fold j (on the folds that "
                         "are neither k nor j) and score the mean of those K-1 models on fold k, which none of them "
                         "saw; compare with the row's single models (trained on all folds but k)")
    a = ap.parse_args(argv)
    if a.list or not a.row:
        for name, opts in ROWS.items():
            print(f"{name}: {' '.join(opts)}")
        return
    if a.row not in ROWS:
        raise SystemExit(f"error: unknown row {a.row!r}; rows: {', '.join(ROWS)}")
    if not a.data or not a.out:
        raise SystemExit("error: --data and --out are required")
    k_all = folds.fold_count(folds.read(a.folds_manifest))
    ks = [int(k) for k in a.folds.split(",")] if a.folds else list(range(k_all))
    t0 = time.time()
    if a.nested_ensemble:
        return nested(a, ks, k_all, extra, t0)
    runs = []
    for k in ks:
        run = os.path.join(a.out, f"fold-{k}")
        if a.resume and fold_is_trained(run):
            print(f"{a.row} fold {k}: already trained, kept", flush=True)
            runs.append(run)
            continue
        cmd = [sys.executable, os.path.join(HERE, "train.py"), "--data", a.data, "--folds-manifest", a.folds_manifest,
               "--fold", str(k), "--threads", a.threads, "--out", run] + ROWS[a.row] + extra
        os.makedirs(run, exist_ok=True)
        with open(os.path.join(run, "train.log"), "w") as log:
            subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        runs.append(run)
        print(f"{a.row} fold {k} done ({time.time() - t0:.0f}s)", flush=True)
    if "--crop-views" in ROWS[a.row] + extra:
        print(f"{a.row}: trained; a crop classifier is scored on predicted boxes by training/pipeline_oof.py")
        return
    oof = os.path.join(a.out, "oof.json")
    subprocess.run([sys.executable, os.path.join(HERE, "oof.py"), "--data", a.data, "--folds-manifest",
                    a.folds_manifest, "--threads", a.threads, "--runs", *runs, "--out", oof], check=True, cwd=REPO)
    with open(oof) as f:
        rec = json.load(f)
    summary = {"row": a.row, "options": ROWS[a.row] + extra, "folds": ks, "wall_seconds": round(time.time() - t0),
               "train_seconds": sum(json.load(open(os.path.join(r, "summary.json")))["train_seconds"] for r in runs),
               "command": "python3 training/cv.py " + " ".join(sys.argv[1:] if argv is None else argv + (["--"] + extra if extra else [])),
               "score": evaluate.score(rec), "score_hflip_tta": evaluate.score(rec, tta=True)}
    with open(os.path.join(a.out, "cv-summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    evaluate.main([oof])
    evaluate.main([oof, "--tta"])


def nested(a, ks, k_all, extra, t0):
    """Writes <out>/oof-nested-ensemble.json: per outer fold, the mean probabilities of its K-1 inner models."""
    import torch
    rows = folds.read(a.folds_manifest)
    rec = {"classes": None, "paths": [], "labels": [], "groups": [], "folds": [], "probabilities": []}
    group_of = {r["path"]: r["group"] for r in rows}
    for k in ks:
        preds = []
        for j in [f for f in range(k_all) if f != k]:
            run = os.path.join(a.out, f"outer-{k}", f"inner-{j}")
            os.makedirs(run, exist_ok=True)
            cmd = [sys.executable, os.path.join(HERE, "train.py"), "--data", a.data, "--folds-manifest", a.folds_manifest,
                   "--fold", str(k), "--drop-fold", str(j), "--threads", a.threads, "--out", run] + ROWS[a.row] + extra
            with open(os.path.join(run, "train.log"), "w") as log:
                subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
            with open(os.path.join(run, "preds-test.json")) as f:
                preds.append(json.load(f))
            print(f"{a.row} nested outer {k} inner {j} done ({time.time() - t0:.0f}s)", flush=True)
        rec["classes"] = preds[0]["classes"]
        rec["paths"] += preds[0]["paths"]
        rec["labels"] += preds[0]["labels"]
        rec["groups"] += [group_of[p] for p in preds[0]["paths"]]
        rec["folds"] += [k] * len(preds[0]["paths"])
        rec["probabilities"] += torch.tensor([p["probabilities"] for p in preds]).mean(0).tolist()
    out = os.path.join(a.out, "oof-nested-ensemble.json")
    with open(out, "w") as f:
        json.dump(rec, f)
    with open(os.path.join(a.out, "nested-summary.json"), "w") as f:
        json.dump({"row": a.row, "wall_seconds": round(time.time() - t0), "score": evaluate.score(rec),
                   "command": "python3 training/cv.py " + " ".join(sys.argv[1:])}, f, indent=1)
    evaluate.main([out])


if __name__ == "__main__":
    main()
