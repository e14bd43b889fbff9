#!/usr/bin/env python3
"""PyTorch eager baseline for `fracview bench`: the same weights file loaded into the reference
FractureClassifier (scripts/fixtures/reference_model.py), batch 1, same thread count.

    python3 scripts/bench_pytorch.py --weights FILE [--threads N] [--runs 50] [--json]
    python3 scripts/bench_pytorch.py --make-random efficientnet_b4 OUT.safetensors   # random-weight model file
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
import reference_model as ref  # noqa: E402
import torch  # noqa: E402


def make_random(arch, out, seed=0):
    """A FractureClassifier with random weights whose BatchNorm statistics are estimated on the bundled
    sample X-rays (so activations stay in a realistic range through all the blocks)."""
    import glob
    from PIL import Image
    from safetensors.torch import save_file
    from torchvision import transforms
    torch.manual_seed(seed)
    model = ref.FractureClassifier(ref.build_efficientnet(arch), 10)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    paths = sorted(glob.glob(os.path.join(root, "samples", "hbfmid-test", "test", "images", "*.jpg")))[:8]
    tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(), transforms.Normalize(ref.MEAN, ref.STD)])
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.reset_running_stats()
                m.momentum = None
        model.classifier[4].weight.mul_(6.0)
        model.train()
        if paths:
            model(torch.stack([tf(Image.open(p).convert("RGB")) for p in paths]))
    model.eval()
    sd = {k: v.contiguous() for k, v in model.state_dict().items() if not k.startswith("base_model.classifier")}
    meta = ref.metadata_for(arch)
    meta["note"] = "random weights for benchmarking"
    save_file(sd, out, metadata=meta)
    print(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--make-random", nargs=2, metavar=("ARCH", "OUT"))
    a = ap.parse_args()
    if a.make_random:
        return make_random(*a.make_random)
    if not a.weights:
        ap.error("--weights is required")
    if a.threads:
        torch.set_num_threads(a.threads)
    model, meta = ref.model_from_safetensors(a.weights)
    h, w = json.loads(meta.get("input_size", "[224, 224]"))
    x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    times = []
    with torch.inference_mode():
        for _ in range(a.warmup):
            model(x)
        for _ in range(a.runs):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    res = {"framework": f"pytorch {torch.__version__} eager", "threads": torch.get_num_threads(), "runs": a.runs,
           "forward_ms_median": statistics.median(times), "forward_ms_p90": times[int(round((len(times) - 1) * 0.9))],
           "forward_ms_min": times[0]}
    print(json.dumps(res) if a.json else
          f"pytorch: median {res['forward_ms_median']:.1f} ms, p90 {res['forward_ms_p90']:.1f} ms, {res['threads']} threads")


if __name__ == "__main__":
    main()
