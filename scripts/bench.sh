#!/usr/bin/env bash
# Benchmarks the Swift engine against PyTorch eager, ONNX Runtime and OpenVINO on the same weights and the same
# input (a preprocessed sample X-ray), same intra-op thread count, in one run:
#   scripts/bench.sh [--weights FILE|DIR] [--runs N] [--batch N] [--rounds N] [--bursts N]
# Without --weights: a random-weight EfficientNet-B4 FractureClassifier (generated once into /tmp), the shipped
# fold member fold-0, and the K shipped members together; the pipeline's localiser and crop member (fold 0) in the
# head-to-head only. Set FRACVIEW_BIN to use an existing binary.
# The frameworks take turns, --rounds times per model (default 4, which goes first alternating): this machine's speed drifts by tens of percent
# within a minute, so each round's ratio compares runs seconds apart, and the table gives the median round (and
# the range). Then, per single weights file, a three-way head-to-head of fracview, ONNX Runtime and OpenVINO
# interleaved in --bursts bursts of 10 forwards a tenth of a second apart, who goes first rotating
# (scripts/bench_peers.py --versus), which shares the drift between them.
# Prints the machine (CPU model, fracview's ISA, the OpenBLAS core, whether the peers were ISA-limited), a latency
# table (batch 1: median, p90, ratios), the head-to-head table, a throughput table (images/s, decode excluded and
# included; first round) and the raw JSON; fails if ONNX Runtime, OpenVINO or fracview disagree with PyTorch by
# more than 1e-4 in any probability.
# The peers are the versions pinned in training/requirements-bench.txt: if they are missing or differ, they are
# installed from it (torch is held at the installed CPU build; FRACVIEW_BENCH_NO_INSTALL=1 fails instead).
# FRACVIEW_PEER_MAX_ISA=avx2 caps fracview (FRACVIEW_MAX_ISA), OpenVINO and PyTorch at AVX2 (the AVX2 proxy on an
# AVX-512 machine; ONNX Runtime has no such switch and stays on the CPU's best ISA). OPENBLAS_CORETYPE is left as it is.
set -euo pipefail
if [ -n "${FRACVIEW_PEER_MAX_ISA:-}" ]; then export FRACVIEW_MAX_ISA="$FRACVIEW_PEER_MAX_ISA"; fi
cd "$(dirname "$0")/.."
weights="" runs=50 batch=8 rounds=4 bursts=60
while [ $# -gt 0 ]; do
  case "$1" in
    --weights) weights="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --bursts) bursts="$2"; shift 2 ;;
    *) echo "usage: scripts/bench.sh [--weights FILE|DIR] [--runs N] [--batch N] [--rounds N] [--bursts N]" >&2; exit 2 ;;
  esac
done
python3 -c "import torch" 2>/dev/null || {
  echo "scripts/bench.sh needs torch (CPU): pip install -r training/requirements.txt" >&2; exit 2; }
# The installed peers against the pins: prints what differs, exit status 1 if anything does.
peers_as_pinned() {
  python3 - <<'EOF'
import re, sys
from importlib.metadata import version, PackageNotFoundError
bad = []
for line in open("training/requirements-bench.txt"):
    m = re.match(r"\s*([A-Za-z0-9_.-]+)==(\S+)", line)
    if not m:
        continue
    try:
        v = version(m.group(1))
    except PackageNotFoundError:
        v = None
    if v != m.group(2):
        bad.append(f"{m.group(1)} {v or 'missing'} (pinned {m.group(2)})")
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
}
if ! why=$(peers_as_pinned); then
  if [ -n "${FRACVIEW_BENCH_NO_INSTALL:-}" ]; then
    echo "scripts/bench.sh: the peers are not as pinned ($why): pip install -r training/requirements-bench.txt" >&2; exit 2
  fi
  echo "the peers are not as pinned ($why): installing training/requirements-bench.txt ..." >&2
  torch_before=$(python3 -c "import torch; print(torch.__version__)")
  # requirements-bench.txt constrains torch to training/requirements.txt's CPU build, so pip never pulls PyPI's.
  python3 -m pip install -r training/requirements-bench.txt >&2
  why=$(peers_as_pinned) || { echo "scripts/bench.sh: still not as pinned: $why" >&2; exit 2; }
  torch_after=$(python3 -c "import torch; print(torch.__version__)")
  [ "$torch_after" = "$torch_before" ] || { echo "scripts/bench.sh: torch changed ($torch_before -> $torch_after)" >&2; exit 2; }
fi
python3 -c "import onnxruntime, onnx, openvino" || { echo "scripts/bench.sh: the peers do not import" >&2; exit 2; }
if [ -n "${FRACVIEW_BIN:-}" ]; then bin="$FRACVIEW_BIN"
else swift build -c release -Xswiftc -enable-testing --product fracview >&2; bin=.build/release/fracview; fi
# fracview's engine threads: OPENBLAS_NUM_THREADS or the core count (what Parallel.threads reads).
threads="${OPENBLAS_NUM_THREADS:-$(nproc)}"
models=()
if [ -n "$weights" ]; then models=("$weights")
else
  b4=/tmp/fracview-bench-random-b4-v2.safetensors
  [ -f "$b4" ] || python3 scripts/bench_peers.py --make-random efficientnet_b4 "$b4" >&2
  models=("$b4")
  if [ -d weights/fracture-classifier ]; then models+=(weights/fracture-classifier/fold-0.safetensors weights/fracture-classifier); fi
fi
# The pipeline's other members (a localiser at its own input size, a crop classifier) join the head-to-head only:
# neither runs alone in fracview, so they have no row of their own in the rounds.
head_to_head_only=()
if [ -z "$weights" ] && [ -d weights/fracture-classifier ]; then
  for f in weights/fracture-classifier/localiser-fold-0.safetensors weights/fracture-classifier/crop-fold-0.safetensors; do
    if [ -f "$f" ]; then head_to_head_only+=("$f"); fi
  done
fi

results=()
# The head-to-head with ONNX Runtime and OpenVINO on one weights file, interleaved in bursts a tenth of a second
# apart, who goes first rotating.
head_to_head() {
  echo "head-to-head with ONNX Runtime and OpenVINO on $1, $bursts bursts ..." >&2
  local versus
  versus=$(python3 scripts/bench_peers.py --weights "$1" --threads "$threads" --versus "$bin" --bursts "$bursts" --json)
  results+=("$(python3 -c "import json,sys; print(json.dumps({\"model\": sys.argv[1], \"versus\": json.loads(sys.argv[2])}))" "$1" "$versus")")
}
for m in "${models[@]}"; do
  # A directory: bench_peers.py takes its whole-image classifier members (not the localisers or crop members), the
  # K members fracview's ensemble case runs through.
  files=("$m")
  input=$(mktemp /tmp/fracview-bench-input.XXXXXX)
  for round in $(seq 1 "$rounds"); do
    echo "benchmarking $m, round $round of $rounds ..." >&2
    peer_extra=() our_extra=()
    # Throughput in the first round only; a directory's members were measured on their own row.
    if [ "$round" -gt 1 ]; then peer_extra=(--no-throughput); fi
    if [ "$round" -gt 1 ] || [ -d "$m" ]; then our_extra=(--throughput-images none); fi
    run_peers() {
      python3 scripts/bench_peers.py --weights "${files[@]}" --threads "$threads" --runs "$runs" --batch "$batch" \
        --input-out "$input" --json "${peer_extra[@]}"
    }
    run_ours() { "$bin" bench --weights "$m" --input-tensor "$input" --runs "$runs" --json "${our_extra[@]}"; }
    # The order alternates between rounds, so that whatever the first process leaves behind (a busy page cache,
    # a CPU clocked down) does not always fall on the same framework. Round 1's peers write the input tensor.
    if [ $((round % 2)) -eq 1 ]; then
      peers=$(run_peers); ours=$(run_ours)
    else
      ours=$(run_ours); peers=$(run_peers)
    fi
    results+=("$(python3 -c "import json,sys; print(json.dumps({\"model\": sys.argv[1], \"round\": int(sys.argv[4]), \"fracview\": json.loads(sys.argv[2]), \"peers\": json.loads(sys.argv[3])}))" "$m" "$ours" "$peers" "$round")")
  done
  rm -f "$input"
  if [ ! -d "$m" ]; then head_to_head "$m"; fi  # single files only
done
for m in "${head_to_head_only[@]}"; do head_to_head "$m"; done

out=${FRACVIEW_BENCH_OUT:-/tmp/fracview-bench.jsonl}
printf '%s\n' "${results[@]}" > "$out"
echo "raw results: $out (python3 scripts/bench_report.py $out prints the tables again)" >&2
python3 scripts/bench_report.py "$out"
