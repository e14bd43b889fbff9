#!/usr/bin/env python3
"""The peers of `fracview bench`, on the same weights and the same input, in one process: PyTorch eager (the
reference FractureClassifier of scripts/fixtures/reference_model.py), ONNX Runtime (CPU provider, the model exported
with torch.onnx.export) and OpenVINO (CPU plugin, compiled from that same ONNX file), all with the same intra-op
thread count as fracview.

    python3 scripts/bench_peers.py --weights FILE|DIR [FILE...] --image JPG [--threads N] [--runs 50]
                                   [--batch 8] [--input-out F32] [--json]
    python3 scripts/bench_peers.py --weights FILE --versus FRACVIEW_BIN [--bursts 40] [--burst-runs 10]
                                   [--versus-peers onnxruntime,openvino] [--json]
        (FILE may be any member of the shipped pipeline: a whole-image classifier, a localiser or a crop member,
        each at its own input size; the latter two are timed in the head-to-head only)
    python3 scripts/bench_peers.py --make-random efficientnet_b4 OUT.safetensors   # random-weight model file

Timed: batch 1 latency of the first file (median, p90); a case through every file (the K fold members); throughput
in images/s at batch 1 and at --batch, decode excluded (a preprocessed tensor) and decode included (PIL open,
Resize, ToTensor, Normalize, forward, one image after another, as evaluate reads them). ORT's and OpenVINO's
probabilities are checked against PyTorch's on the X-ray input (max |dp| printed and required <= 1e-4). --input-out
writes that input (float32, 3 x H x W, little-endian) so that fracview runs on exactly the same tensor.

OpenVINO: the ONNX file reshaped to a static batch (1, or --batch for the batch figure), CPU, fp32
(INFERENCE_PRECISION_HINT f32: on a CPU with bf16 or AMX it would otherwise run bf16), INFERENCE_NUM_THREADS
--threads, PERFORMANCE_HINT LATENCY (one stream) for everything the other peers also run; besides, an
images/s figure with PERFORMANCE_HINT THROUGHPUT (its own streams, async requests; decode excluded). The compiled
model's settings and the ISA of its primitives (from its runtime graph) are in the JSON.

FRACVIEW_PEER_MAX_ISA=avx2 (the AVX2 proxy on an AVX-512 machine) caps the peers before their libraries load:
ONEDNN_MAX_CPU_ISA=AVX2 (OpenVINO's oneDNN kernels and PyTorch's), OV_CPU_MAX_ISA=AVX2 (OpenVINO's own JIT
kernels), ATEN_CPU_CAPABILITY=avx2 (PyTorch's own kernels). ONNX Runtime has no equivalent: MLAS picks its kernels
from CPUID, so ORT stays on the machine's best ISA (the JSON says so). The JSON names the CPU model.

--versus: a head-to-head of fracview, ONNX Runtime and OpenVINO on that input, interleaved. fracview runs as a child
(`fracview bench --serve-bursts`, model loaded and warmed once); the three take turns in bursts of --burst-runs
forwards (the first of each burst untimed; who goes first rotates, through all six orders; 100 ms apart so that
none's spinning threads overlap the next one's burst), --bursts times each. This machine's speed drifts by tens of
percent within seconds, so separate runs seconds apart can favour either side; bursts a tenth of a second apart share
the drift. Reports each side's median and minimum over all timed forwards, and the median (and quartiles) of the
per-burst ratios fracview / ORT, fracview / OpenVINO and fracview / (the faster of the two in that burst); the JSON
also keeps every burst's median per side (burst_medians_ms), in the order run.
"""
import subprocess
import argparse
import collections
import glob
import hashlib
import itertools
import json
import os
import statistics
import sys
import time

import numpy as np

# The environment as given, for the fracview child of --versus (it gets the thread count and, when the peers are
# capped, FRACVIEW_MAX_ISA from PEER_ISA_ENV; the other caps below are the peers').
ORIGINAL_ENV = dict(os.environ)
# The AVX2 proxy: caps the peers' ISA. oneDNN (in OpenVINO and in PyTorch) reads ONEDNN_MAX_CPU_ISA once, at its
# first dispatch; OpenVINO's own kernels read OV_CPU_MAX_ISA, ATen ATEN_CPU_CAPABILITY: all set before any of these
# libraries is imported. ONNX Runtime has no such switch (MLAS dispatches on CPUID).
PEER_ISA_ENV = {"avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "OV_CPU_MAX_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
                         # fracview's --versus child too (its kernels read it at load time).
                         "FRACVIEW_MAX_ISA": "avx2"}}
PEER_MAX_ISA = os.environ.get("FRACVIEW_PEER_MAX_ISA", "").strip().lower()
if PEER_MAX_ISA:
    if PEER_MAX_ISA not in PEER_ISA_ENV:
        sys.exit(f"FRACVIEW_PEER_MAX_ISA={PEER_MAX_ISA!r}: supported: {', '.join(PEER_ISA_ENV)}")
    os.environ.update(PEER_ISA_ENV[PEER_MAX_ISA])

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


def member_kind(path):
    """What a weights file holds: "localiser" (metadata role localiser), "crop" (a crop classifier) or "classifier"."""
    from safetensors import safe_open
    with safe_open(path, "pt") as st:
        meta = st.metadata() or {}
    if meta.get("role") == "localiser":
        return "localiser"
    return "crop" if meta.get("input") == "crop" else "classifier"


def load_member(path, kind):
    """The PyTorch model of a member of the shipped pipeline of this `member_kind`, in eval mode, and its metadata: a
    FractureClassifier (a whole-image or crop classifier: the same network) or the localiser (training/localiser.py)."""
    if kind != "localiser":
        return ref.model_from_safetensors(path)
    sys.path.insert(0, ROOT)
    from training.export_weights import load_exported
    return load_exported(path)


def as_probabilities(kind, first_output):
    """What the parity check compares, from a batch-1 forward's first output: a classifier's softmax, or the
    localiser's maps through a sigmoid (its centre probabilities and offsets are read that way; the log-sizes are
    monotone in it)."""
    out = torch.as_tensor(np.asarray(first_output))
    return (torch.sigmoid(out[0]) if kind == "localiser" else torch.softmax(out, 1)[0]).numpy()


def export_onnx(model, path, size, weights_file):
    """Exports once per weights file (cached under /tmp by the file's SHA-256)."""
    h = hashlib.sha256()
    with open(weights_file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    out = os.path.join("/tmp", f"fracview-bench-{h.hexdigest()[:16]}.onnx")
    if not os.path.exists(out):
        x = torch.zeros(1, 3, *size)
        outputs = ["logits", "attention"] if isinstance(model, ref.FractureClassifier) else ["maps"]
        torch.onnx.export(model, (x,), out + ".part", input_names=["x"], output_names=outputs,
                          dynamic_axes={"x": {0: "n"}, **{o: {0: "n"} for o in outputs}}, dynamo=False,
                          opset_version=17)
        os.replace(out + ".part", out)
    return out


def expand_weights(paths):
    """A directory stands for its whole-image classifier members, the K fold files that fracview's ensemble runs
    (`bench --weights DIR`): localisers (metadata role localiser) and crop members (input crop) are left out."""
    from safetensors import safe_open
    out = []
    for p in paths:
        if not os.path.isdir(p):
            out.append(p)
            continue
        for f in sorted(glob.glob(os.path.join(p, "*.safetensors"))):
            with safe_open(f, "pt") as st:
                meta = st.metadata() or {}
            if meta.get("role", "classifier") == "classifier" and meta.get("input", "image") != "crop":
                out.append(f)
    return out


def cpu_info():
    """The CPU model and the vector ISA flags that matter here, from /proc/cpuinfo."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown":
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    wanted = ["avx2", "fma", "avx512f", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile",
              "amx_bf16", "avx_vnni"]
    return {"model": model, "logical_cpus": os.cpu_count(), "isa_flags": [x for x in wanted if x in flags]}


# OpenVINO ----------------------------------------------------------------------------------------------------------

# ISA tags in the CPU plugin's primitive type names (brgconv_avx512_1x1_f32, jit_avx2_f32, gemm_mlas_f32, ...),
# most specific first.
OV_ISA_TAGS = ("amx", "avx512", "avx2_vnni", "avx2", "avx", "sse42", "sse41", "uni", "mlas", "ref", "acl")


def openvino_compile(core, onnx_file, batch, size, threads, hint):
    """The ONNX file ORT runs, reshaped to a static batch, compiled for the CPU in fp32 with `threads` threads."""
    m = core.read_model(onnx_file)
    m.reshape({"x": [batch, 3, *size]})
    return core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads,
                                         "PERFORMANCE_HINT": hint})


def openvino_config(compiled):
    """The compiled model's settings as it reports them (what was asked for, and what OpenVINO made of it)."""
    out = {}
    for k in ("PERFORMANCE_HINT", "INFERENCE_PRECISION_HINT", "INFERENCE_NUM_THREADS", "NUM_STREAMS",
              "OPTIMAL_NUMBER_OF_INFER_REQUESTS", "ENABLE_CPU_PINNING", "EXECUTION_DEVICES"):
        try:
            v = compiled.get_property(k)
        except Exception:  # a property this version does not have
            continue
        if hasattr(v, "to_string"):  # an ov.Type: f32, bf16
            v = v.to_string()
        out[k] = v if isinstance(v, (int, bool, str)) else [str(e) for e in v] if isinstance(v, list) else str(v)
    return out


def openvino_runtime(compiled):
    """Counts of the executed nodes' ISA tags and runtime precisions, from the compiled model's runtime graph."""
    isa, precision = collections.Counter(), collections.Counter()
    for op in compiled.get_runtime_model().get_ops():
        info = op.get_rt_info()
        layer, prim = info["layerType"].astype(str), info["primitiveType"].astype(str)
        if layer in ("Const", "Input", "Output") or prim.startswith("unknown"):
            continue
        isa[next((t for t in OV_ISA_TAGS if t in prim), "other")] += 1
        precision[info["runtimePrecision"].astype(str)] += 1
    return {"isa": dict(isa), "precisions": dict(precision)}


def openvino_async_images_per_s(compiled, arrays, repeat=2):
    """images/s with the THROUGHPUT hint: OpenVINO's own streams, as many async requests as it asks for."""
    import openvino as ov
    queue = ov.AsyncInferQueue(compiled, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
    for a in arrays[:4]:
        queue.start_async({0: a}, share_inputs=True)
    queue.wait_all()
    t = time.perf_counter()
    for a in arrays * repeat:
        queue.start_async({0: a}, share_inputs=True)
    queue.wait_all()
    return len(arrays) * repeat / (time.perf_counter() - t)


def peer_isa(ov_runtime):
    """What the peers' ISA was: asked for (FRACVIEW_PEER_MAX_ISA), the caps in force, and what each one reports."""
    env = {k: os.environ.get(k) for k in ("ONEDNN_MAX_CPU_ISA", "OV_CPU_MAX_ISA", "ATEN_CPU_CAPABILITY")}
    try:
        pytorch = torch.backends.cpu.get_cpu_capability()
    except Exception:
        pytorch = None
    return {"limited_to": PEER_MAX_ISA or None, "env": env, "pytorch_cpu_capability": pytorch,
            "openvino_primitives": ov_runtime["isa"] if ov_runtime else None,
            "onnxruntime": "not limited: MLAS picks its kernels from CPUID, there is no switch"}


# The pause between the sides' bursts. ORT's worker threads go on spinning for a while after a run: 20 ms
# apart, a tenth of fracview's forwards ran at half speed (p90 6.8 ms against a median of 2.8 ms for the Lite0
# member); 100 ms apart that tail is gone.
BURST_PAUSE_S = 0.1


def burst_orders(names):
    """Orders of the sides for successive bursts: who goes first rotates, and over len(names) * 2 bursts every
    side goes first equally often (for three sides, all six orders: each also follows each other side equally)."""
    fwd, rev = list(names), [names[0]] + list(reversed(names[1:]))
    orders = []
    for seq in (fwd, rev):
        for i in range(len(seq)):
            o = tuple(seq[i:] + seq[:i])
            if o not in orders:
                orders.append(o)
    return orders


def ratio_stats(ratios):
    q = np.percentile(ratios, [25, 50, 75])
    return float(q[1]), [float(q[0]), float(q[2])], sum(r < 1 for r in ratios)


def versus(binary, weights, kind, peers, xn, bursts, burst_runs, threads):
    """The interleaved head-to-head (see the module docstring): the peers in this process (name -> one forward),
    fracview as a child with `threads` engine threads (it takes its count from OPENBLAS_NUM_THREADS, as OpenBLAS
    would)."""
    path = f"/tmp/fracview-versus-{os.getpid()}.f32"
    xn[0].astype("<f4").tofile(path)
    # The environment as given, with the thread count and, under FRACVIEW_PEER_MAX_ISA, fracview capped as the
    # peers are (without it the child ran its AVX-512 kernels against AVX2 peers).
    env = {**ORIGINAL_ENV, "OPENBLAS_NUM_THREADS": str(threads)}
    if PEER_MAX_ISA:
        env["FRACVIEW_MAX_ISA"] = PEER_ISA_ENV[PEER_MAX_ISA]["FRACVIEW_MAX_ISA"]
    # A localiser or crop member runs inside its folder's pipeline (fracview loads neither alone): the folder, and
    # --member to name it.
    member = ["--weights", weights] if kind == "classifier" else \
        ["--weights", os.path.dirname(os.path.abspath(weights)), "--member", os.path.basename(weights)]
    child = subprocess.Popen([binary, "bench", *member, "--input-tensor", path, "--serve-bursts"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    kernels = set()
    try:
        def ours():
            child.stdin.write(f"{burst_runs + 1}\n")
            child.stdin.flush()
            line = child.stdout.readline()
            if not line:
                raise SystemExit(f"fracview bench --serve-bursts ended early (exit {child.wait()})")
            answer = json.loads(line)
            kernels.add(answer.get("kernels", "unknown"))
            return answer["ms"][1:]

        def theirs(forward):
            def burst():
                out = []
                for i in range(burst_runs + 1):
                    t = time.perf_counter()
                    forward()
                    if i:
                        out.append((time.perf_counter() - t) * 1e3)
                return out
            return burst

        sides = {"fracview": ours, **{name: theirs(fwd) for name, fwd in peers.items()}}
        orders = burst_orders(list(sides))
        for _ in range(3):  # warm all
            for run in sides.values():
                run()
        times = {name: [] for name in sides}
        medians = []  # per burst: side -> median ms
        for b in range(bursts):
            m = {}
            for name in orders[b % len(orders)]:
                time.sleep(BURST_PAUSE_S)
                t = sides[name]()
                times[name] += t
                m[name] = statistics.median(t)
            medians.append(m)
    finally:
        child.stdin.close()
        child.wait()
        os.unlink(path)
    if PEER_MAX_ISA and kernels != {PEER_MAX_ISA}:
        raise SystemExit(f"fracview ran {sorted(kernels)} kernels, not {PEER_MAX_ISA} like the peers")
    res = {"bursts": bursts, "burst_runs": burst_runs, "sides": list(sides), "fracview_kernels": sorted(kernels),
           "orders": ["/".join(o) for o in orders], "burst_medians_ms": medians}
    for name, t in times.items():
        res[name] = {**summary(t), "runs": len(t)}
    # The per-burst ratios. The keys without a peer's name are fracview / ORT (as before OpenVINO joined).
    suffix = {"onnxruntime": "", "openvino": "_openvino"}
    for name in peers:
        med, quart, wins = ratio_stats([m["fracview"] / m[name] for m in medians])
        res[f"pair_ratio{suffix.get(name, '_' + name)}_median"] = med
        res[f"pair_ratio{suffix.get(name, '_' + name)}_quartiles"] = quart
        res[f"pairs_fracview_faster{suffix.get(name, '_' + name)}"] = wins
    if len(peers) > 1:
        med, quart, wins = ratio_stats([m["fracview"] / min(m[p] for p in peers) for m in medians])
        res["pair_ratio_best_peer_median"], res["pair_ratio_best_peer_quartiles"] = med, quart
        res["pairs_fracview_faster_best_peer"] = wins
        res["best_peer_bursts"] = dict(collections.Counter(min(peers, key=lambda p: m[p]) for m in medians))
    return res


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
    ap.add_argument("--versus-peers", default="onnxruntime,openvino",
                    help="the peers in the head-to-head, comma-separated (default: onnxruntime,openvino)")
    ap.add_argument("--bursts", type=int, default=60)
    ap.add_argument("--burst-runs", type=int, default=10)
    a = ap.parse_args()
    if a.make_random:
        return make_random(*a.make_random)
    if not a.weights:
        ap.error("--weights is required")
    versus_peers = [p.strip() for p in a.versus_peers.split(",") if p.strip()]
    if not versus_peers or any(p not in ("onnxruntime", "openvino") for p in versus_peers):
        ap.error("--versus-peers: a comma-separated list of onnxruntime, openvino")
    import warnings
    warnings.filterwarnings("ignore")
    import onnxruntime as ort
    import openvino as ov
    from PIL import Image

    torch.set_num_threads(a.threads)
    a.weights = expand_weights(a.weights)
    if not a.weights:
        ap.error("--weights: no classifier member in the directory")
    kinds = [member_kind(w) for w in a.weights]
    for w, k in zip(a.weights, kinds):
        if k != "classifier" and (not a.versus or len(a.weights) > 1):
            ap.error(f"--weights {w}: a {k} member is timed in the head-to-head only (--versus, one file)")
    kind = kinds[0]
    models = [load_member(w, k) for w, k in zip(a.weights, kinds)]
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
        if len(onnx_files) > 1 and not a.versus else []
    # OpenVINO from the same ONNX files: batch 1, LATENCY (one stream, all threads on the one request).
    core = ov.Core()
    ov_files = onnx_files[:1] if a.versus else onnx_files
    ov_models = [openvino_compile(core, f, 1, size, a.threads, "LATENCY") for f in ov_files]
    ov_reqs = [c.create_infer_request() for c in ov_models]
    ov_runtime = openvino_runtime(ov_models[0])
    xn = x.numpy()
    frameworks = {"pytorch": f"pytorch {torch.__version__} eager", "onnxruntime": f"onnxruntime {ort.__version__} CPU",
                  "openvino": f"openvino {ov.get_version().split('-')[0]} CPU fp32"}

    def ov_run(req, arr):
        return req.infer({0: arr}, share_inputs=True)

    with torch.inference_mode():
        out = model(x)
        p_torch = as_probabilities(kind, out if kind == "localiser" else out[0])
        p_ort = as_probabilities(kind, sessions[0].run(None, {"x": xn})[0])
        p_ov = as_probabilities(kind, ov_run(ov_reqs[0], xn)[0])
    dp = {"onnxruntime": float(np.abs(p_ort - p_torch).max()), "openvino": float(np.abs(p_ov - p_torch).max())}
    common = {"image": os.path.basename(image), "input_size": size, "threads": a.threads, "cpu": cpu_info(),
              "peer_isa": peer_isa(ov_runtime)}

    if a.versus:
        forwards = {"onnxruntime": lambda: sessions[0].run(None, {"x": xn}), "openvino": lambda: ov_run(ov_reqs[0], xn)}
        res = {**common, "framework": frameworks["onnxruntime"],
               "frameworks": {p: frameworks[p] for p in versus_peers},
               "openvino_config": openvino_config(ov_models[0]),
               "ort_vs_pytorch_max_abs_dp": dp["onnxruntime"], "openvino_vs_pytorch_max_abs_dp": dp["openvino"],
               **versus(a.versus, a.weights[0], kind, {p: forwards[p] for p in versus_peers}, xn, a.bursts,
                        a.burst_runs, a.threads)}
        print(json.dumps(res) if a.json else json.dumps(res, indent=1))
        return check_parity(dp)

    res = {**common, "runs": a.runs,
           "pytorch": {"framework": frameworks["pytorch"]},
           "onnxruntime": {"framework": frameworks["onnxruntime"]},
           "openvino": {"framework": frameworks["openvino"], "config": openvino_config(ov_models[0]),
                        "runtime": ov_runtime}}
    res["pytorch"]["probabilities"] = p_torch.tolist()
    res["onnxruntime"]["probabilities"] = p_ort.tolist()
    res["openvino"]["probabilities"] = p_ov.tolist()
    res["ort_vs_pytorch_max_abs_dp"] = dp["onnxruntime"]
    res["openvino_vs_pytorch_max_abs_dp"] = dp["openvino"]
    with torch.inference_mode():
        # Throughput over the bundled sample's X-rays (the same files fracview reads).
        paths = sorted(glob.glob(os.path.join(SAMPLES, "*.jpg")))[:32]
        tensors = [preprocess(Image.open(p), size).unsqueeze(0) for p in paths]
        batch = torch.cat((tensors * ((a.batch + len(tensors) - 1) // len(tensors)))[:a.batch])
        bn = batch.numpy()
        # OpenVINO's batch figure: the model compiled for --batch (LATENCY: the whole batch one request over all
        # threads, as the other peers run it).
        ov_batch = None if a.no_throughput else \
            openvino_compile(core, onnx_files[0], a.batch, size, a.threads, "LATENCY").create_infer_request()
        peers = {
            "pytorch": (lambda t: model(t), lambda: model(batch), lambda: [m(x) for m, _ in models]),
            "onnxruntime": (lambda t: sessions[0].run(None, {"x": t.numpy()}), lambda: sessions[0].run(None, {"x": bn}),
                            lambda: [s.run(None, {"x": xn}) for s in sessions]),
            "openvino": (lambda t: ov_run(ov_reqs[0], t.numpy()), lambda: ov_run(ov_batch, bn),
                         lambda: [ov_run(r, xn) for r in ov_reqs]),
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
        if not a.no_throughput:
            # OpenVINO's own throughput mode (streams, async requests; decode excluded), besides the figures above.
            time.sleep(1.0)
            tp = openvino_compile(core, onnx_files[0], 1, size, a.threads, "THROUGHPUT")
            res["openvino"]["images_per_s_throughput_hint"] = openvino_async_images_per_s(
                tp, [t.numpy() for t in tensors])
            res["openvino"]["throughput_hint_config"] = openvino_config(tp)
        if len(models) > 1:
            res["members"] = len(models)
        res["batch"] = a.batch
        res["throughput"] = not a.no_throughput
    if a.json:
        print(json.dumps(res))
    else:
        print(json.dumps(res, indent=1))
    return check_parity(dp)


def check_parity(dp):
    """Exit status 1 if a peer's probabilities are more than 1e-4 from PyTorch's."""
    names = {"onnxruntime": "ONNX Runtime", "openvino": "OpenVINO"}
    bad = [f"{names[k]} disagrees with PyTorch: max |dp| {v:.2e} > 1e-4" for k, v in dp.items() if v > 1e-4]
    for line in bad:
        print(line, file=sys.stderr)
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
