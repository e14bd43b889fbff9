#!/usr/bin/env bash
# Benchmarks the Swift engine against PyTorch eager and ONNX Runtime on the same weights and the same input (a
# preprocessed sample X-ray), same intra-op thread count, in one run:
#   scripts/bench.sh [--weights FILE|DIR] [--runs N] [--batch N] [--rounds N] [--bursts N]
# Without --weights: a random-weight EfficientNet-B4 FractureClassifier (generated once into /tmp), the shipped
# fold member fold-0, and the K shipped members together. Set FRACVIEW_BIN to use an existing binary.
# The frameworks take turns, --rounds times per model (default 4, which goes first alternating): this machine's speed drifts by tens of percent
# within a minute, so each round's ratio compares runs seconds apart, and the table gives the median round (and
# the range). Then, per single weights file, a head-to-head with ONNX Runtime interleaved in --bursts bursts of 10
# forwards a tenth of a second apart (scripts/bench_peers.py --versus), which shares the drift between the two.
# Prints a latency table (batch 1: median, p90, ratios), the head-to-head table, a throughput table (images/s,
# decode excluded and included; first round) and the raw JSON; fails if ONNX Runtime or fracview disagree with
# PyTorch by more than 1e-4 in any probability.
set -euo pipefail
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
python3 -c "import torch, onnxruntime, onnx" 2>/dev/null || {
  echo "scripts/bench.sh needs torch (CPU), onnx and onnxruntime: pip install -r training/requirements-bench.txt" >&2; exit 2; }
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

results=()
for m in "${models[@]}"; do
  files=("$m")
  if [ -d "$m" ]; then mapfile -t files < <(ls "$m"/*.safetensors); fi
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
  # The head-to-head with ONNX Runtime, interleaved in bursts a tenth of a second apart (single files only).
  if [ ! -d "$m" ]; then
    echo "head-to-head with ONNX Runtime on $m, $bursts bursts ..." >&2
    versus=$(python3 scripts/bench_peers.py --weights "$m" --threads "$threads" --versus "$bin" --bursts "$bursts" --json)
    results+=("$(python3 -c "import json,sys; print(json.dumps({\"model\": sys.argv[1], \"versus\": json.loads(sys.argv[2])}))" "$m" "$versus")")
  fi
done

out=${FRACVIEW_BENCH_OUT:-/tmp/fracview-bench.jsonl}
printf '%s\n' "${results[@]}" > "$out"
echo "raw results: $out (python3 scripts/bench_report.py $out prints the tables again)" >&2
python3 scripts/bench_report.py "$out"
