#!/usr/bin/env python3
"""The peers of `fracview bench`, on the same weights and the same input, in one process: PyTorch eager (the
reference FractureClassifier of scripts/fixtures/reference_model.py) and ONNX Runtime (CPU provider, the model
exported with torch.onnx.export), both with the same intra-op thread count as fracview.

    python3 scripts/bench_peers.py --weights FILE [FILE...] --image JPG [--threads N] [--runs 50]
                                   [--batch 8] [--input-out F32] [--json]
    python3 scripts/bench_peers.py --weights FILE --versus FRACVIEW_BIN [--bursts 40] [--burst-runs 10] [--json]
    python3 scripts/bench_peers.py --make-random efficientnet_b4 OUT.safetensors   # random-weight model file

Timed: batch 1 latency of the first file (median, p90); a case through every file (the K fold members); throughput
in images/s at batch 1 and at --batch, decode excluded (a preprocessed tensor) and decode included (PIL open,
Resize, ToTensor, Normalize, forward, one image after another, as evaluate reads them). ORT's probabilities are
checked against PyTorch's on the X-ray input (max |dp| printed and required <= 1e-4). --input-out writes that input
(float32, 3 x H x W, little-endian) so that fracview runs on exactly the same tensor.

--versus: a head-to-head of ONNX Runtime and fracview on that input, interleaved. fracview runs as a child
(`fracview bench --serve-bursts`, model loaded and warmed once); the two take turns in bursts of --burst-runs
forwards (the first of each burst untimed; who goes first alternates; 100 ms apart so that neither's spinning
threads overlap the other's burst), --bursts times each. This machine's speed drifts by tens of percent within
seconds, so separate runs seconds apart can favour either side; bursts a tenth of a second apart share the drift.
Reports each side's median and minimum over all timed forwards, and the median (and quartiles) of the per-burst-pair
ratio fracview / ORT.
"""
import subprocess
import argparse
import glob
import hashlib
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
import reference_model as ref  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SAMPLES = os.path.join(ROOT, "samples", "hbfmid-test", "test", "images")


def make_random(arch, out, seed=0):
    """A FractureClassifier with random weights whose BatchNorm statistics are estimated on the bundled sample
    X-rays (so activations stay in a realistic range through all the blocks on X-ray inputs)."""
    from PIL import Image
    from safetensors.torch import save_file
    torch.manual_seed(seed)
    model = ref.FractureClassifier(ref.build_efficientnet(arch), 10)
    paths = sorted(glob.glob(os.path.join(SAMPLES, "*.jpg")))[:16]
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.reset_running_stats()
                m.momentum = None
        model.train()
        if paths:
            model(torch.stack([preprocess(Image.open(p), (224, 224)) for p in paths]))
        # Logits of a few units on X-rays, so that probabilities are not all 0 or 1 (a parity check needs both).
        model.eval()
        if paths:
            logits, _ = model(torch.stack([preprocess(Image.open(p), (224, 224)) for p in paths]))
            model.classifier[4].weight.mul_(2.0 / max(float(logits.std()), 1e-6))
    model.eval()
    sd = {k: v.contiguous() for k, v in model.state_dict().items() if not k.startswith("base_model.classifier")}
    meta = ref.metadata_for(arch)
    meta["note"] = "random weights for benchmarking"
    save_file(sd, out, metadata=meta)
    print(out)


def preprocess(img, size):
    from torchvision import transforms
    tf = transforms.Compose([transforms.Resize(tuple(size)), transforms.ToTensor(), transforms.Normalize(ref.MEAN, ref.STD)])
    return tf(img.convert("RGB"))


def summary(times):
    """Median, p90 and minimum of a list of milliseconds."""
    times = sorted(times)
    return {"ms_median": statistics.median(times), "ms_p90": times[int(round((len(times) - 1) * 0.9))],
            "ms_min": times[0]}


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return summary(times)


def export_onnx(model, path, size, weights_file):
    """Exports once per weights file (cached under /tmp by the file's SHA-256)."""
    h = hashlib.sha256()
    with open(weights_file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    out = os.path.join("/tmp", f"fracview-bench-{h.hexdigest()[:16]}.onnx")
    if not os.path.exists(out):
        x = torch.zeros(1, 3, *size)
        torch.onnx.export(model, (x,), out + ".part", input_names=["x"], output_names=["logits", "attention"],
                          dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}, "attention": {0: "n"}}, dynamo=False,
                          opset_version=17)
        os.replace(out + ".part", out)
    return out


# The pause between the two sides' bursts. ORT's worker threads go on spinning for a while after a run: 20 ms
# apart, a tenth of fracview's forwards ran at half speed (p90 6.8 ms against a median of 2.8 ms for the Lite0
# member); 100 ms apart that tail is gone.
BURST_PAUSE_S = 0.1


def versus(binary, weights, session, xn, bursts, burst_runs):
    """The interleaved head-to-head (see the module docstring): ORT in this process, fracview as a child."""
    import numpy as np
    path = f"/tmp/fracview-versus-{os.getpid()}.f32"
    xn[0].astype("<f4").tofile(path)
    child = subprocess.Popen([binary, "bench", "--weights", weights, "--input-tensor", path, "--serve-bursts"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        def ours():
            child.stdin.write(f"{burst_runs + 1}\n")
            child.stdin.flush()
            line = child.stdout.readline()
            if not line:
                raise SystemExit(f"fracview bench --serve-bursts ended early (exit {child.wait()})")
            return json.loads(line)["ms"][1:]

        def theirs():
            out = []
            for i in range(burst_runs + 1):
                t = time.perf_counter()
                session.run(None, {"x": xn})
                if i:
                    out.append((time.perf_counter() - t) * 1e3)
            return out

        for _ in range(3):  # warm both
            theirs(), ours()
        f_all, o_all, ratios = [], [], []
        for b in range(bursts):
            time.sleep(BURST_PAUSE_S)
            if b % 2 == 0:
                o = theirs(); time.sleep(BURST_PAUSE_S); f = ours()
            else:
                f = ours(); time.sleep(BURST_PAUSE_S); o = theirs()
            f_all += f
            o_all += o
            ratios.append(statistics.median(f) / statistics.median(o))
    finally:
        child.stdin.close()
        child.wait()
        os.unlink(path)
    q = np.percentile(ratios, [25, 50, 75])
    return {"bursts": bursts, "burst_runs": burst_runs, "fracview": {**summary(f_all), "runs": len(f_all)},
            "onnxruntime": {**summary(o_all), "runs": len(o_all)},
            "pair_ratio_median": float(q[1]), "pair_ratio_quartiles": [float(q[0]), float(q[2])],
            "pairs_fracview_faster": sum(r < 1 for r in ratios)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", nargs="+")
    ap.add_argument("--image", default=None, help="the X-ray the latency and parity runs use (default: first sample)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--input-out")
    ap.add_argument("--no-throughput", action="store_true", help="latency only (bench.sh's later rounds)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--make-random", nargs=2, metavar=("ARCH", "OUT"))
    ap.add_argument("--versus", metavar="FRACVIEW_BIN", help="the interleaved head-to-head against this fracview binary")
    ap.add_argument("--bursts", type=int, default=60)
    ap.add_argument("--burst-runs", type=int, default=10)
    a = ap.parse_args()
    if a.make_random:
        return make_random(*a.make_random)
    if not a.weights:
        ap.error("--weights is required")
    import warnings
    warnings.filterwarnings("ignore")
    import numpy as np
    import onnxruntime as ort
    from PIL import Image

    torch.set_num_threads(a.threads)
    models = [ref.model_from_safetensors(w) for w in a.weights]
    model, meta = models[0]
    size = json.loads(meta.get("input_size", "[224, 224]"))
    image = a.image or sorted(glob.glob(os.path.join(SAMPLES, "*.jpg")))[0]
    x = preprocess(Image.open(image), size).unsqueeze(0)
    if a.input_out:
        x[0].numpy().astype("<f4").tofile(a.input_out)

    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    onnx_files = [export_onnx(m, None, size, w) for (m, _), w in zip(models, a.weights)]
    sessions = [ort.InferenceSession(f, so, providers=["CPUExecutionProvider"]) for f in onnx_files]
    # K sessions each own a spinning thread pool, which fight over the cores when run one after another: for the
    # members case also try sessions that do not spin, and report the better of the two.
    quiet = ort.SessionOptions()
    quiet.intra_op_num_threads = a.threads
    quiet.inter_op_num_threads = 1
    quiet.add_session_config_entry("session.intra_op.allow_spinning", "0")
    quiet_sessions = [ort.InferenceSession(f, quiet, providers=["CPUExecutionProvider"]) for f in onnx_files] \
        if len(onnx_files) > 1 else []
    xn = x.numpy()
    if a.versus:
        res = {"image": os.path.basename(image), "input_size": size, "threads": a.threads,
               "framework": f"onnxruntime {ort.__version__} CPU",
               **versus(a.versus, a.weights[0], sessions[0], xn, a.bursts, a.burst_runs)}
        print(json.dumps(res) if a.json else json.dumps(res, indent=1))
        return

    res = {"image": os.path.basename(image), "input_size": size, "threads": a.threads, "runs": a.runs,
           "pytorch": {"framework": f"pytorch {torch.__version__} eager"},
           "onnxruntime": {"framework": f"onnxruntime {ort.__version__} CPU"}}
    with torch.inference_mode():
        p_torch = torch.softmax(model(x)[0], 1)[0].numpy()
        p_ort = torch.softmax(torch.from_numpy(sessions[0].run(None, {"x": xn})[0]), 1)[0].numpy()
        res["pytorch"]["probabilities"] = p_torch.tolist()
        res["onnxruntime"]["probabilities"] = p_ort.tolist()
        res["ort_vs_pytorch_max_abs_dp"] = float(np.abs(p_ort - p_torch).max())

        # Throughput over the bundled sample's X-rays (the same files fracview reads).
        paths = sorted(glob.glob(os.path.join(SAMPLES, "*.jpg")))[:32]
        tensors = [preprocess(Image.open(p), size).unsqueeze(0) for p in paths]
        batch = torch.cat((tensors * ((a.batch + len(tensors) - 1) // len(tensors)))[:a.batch])
        bn = batch.numpy()
        peers = {
            "pytorch": (lambda t: model(t), lambda: model(batch), lambda: [m(x) for m, _ in models]),
            "onnxruntime": (lambda t: sessions[0].run(None, {"x": t.numpy()}), lambda: sessions[0].run(None, {"x": bn}),
                            lambda: [s.run(None, {"x": xn}) for s in sessions]),
        }
        for name, (run1, runb, members) in peers.items():
            # Each framework's idle threads spin for a while after its last call (OpenMP's blocktime, ORT's spin
            # pool): a pause keeps one from stealing the cores of the next.
            time.sleep(1.0)
            r = res[name]
            r["batch1"] = timed(lambda: run1(x), a.runs, a.warmup)
            if len(models) > 1:
                r["members_case"] = timed(members, max(10, a.runs // 5), 2)
                if name == "onnxruntime":
                    q = timed(lambda: [s.run(None, {"x": xn}) for s in quiet_sessions], max(10, a.runs // 5), 2)
                    r["members_case_spinning"], r["members_case_not_spinning"] = r["members_case"], q
                    r["members_case"] = min(r["members_case"], q, key=lambda t: t["ms_median"])
            if a.no_throughput:
                continue
            for tt in tensors[:4]:
                run1(tt)
            t = time.perf_counter()
            for tt in tensors:
                run1(tt)
            r["images_per_s_batch1"] = len(tensors) / (time.perf_counter() - t)
            tb = timed(runb, max(5, a.runs // 10), 1)
            r[f"images_per_s_batch{a.batch}"] = a.batch / (tb["ms_median"] / 1e3)
            t = time.perf_counter()
            for p in paths:
                run1(preprocess(Image.open(p), size).unsqueeze(0))
            r["images_per_s_decode_included"] = len(paths) / (time.perf_counter() - t)
        if len(models) > 1:
            res["members"] = len(models)
        res["batch"] = a.batch
        res["throughput"] = not a.no_throughput
    if a.json:
        print(json.dumps(res))
    else:
        print(json.dumps(res, indent=1))
    if res["ort_vs_pytorch_max_abs_dp"] > 1e-4:
        print(f"ONNX Runtime disagrees with PyTorch: max |dp| {res['ort_vs_pytorch_max_abs_dp']:.2e} > 1e-4", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
