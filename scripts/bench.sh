#!/usr/bin/env bash
# Benchmarks the Swift engine against PyTorch eager on the same weights, same thread count, in one run.
#   scripts/bench.sh [--weights FILE] [--runs N]
# Set FRACVIEW_BIN to use an existing binary. Without --weights it uses the default model, or (if none exists yet) a random-weight EfficientNet-B4
# FractureClassifier generated once into /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
weights="" runs=50
while [ $# -gt 0 ]; do
  case "$1" in
    --weights) weights="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: scripts/bench.sh [--weights FILE] [--runs N]" >&2; exit 2 ;;
  esac
done
# FRACVIEW_BIN: an already built fracview (skips the build, e.g. the one scripts/test.sh built).
if [ -n "${FRACVIEW_BIN:-}" ]; then bin="$FRACVIEW_BIN"
else swift build -c release -Xswiftc -enable-testing --product fracview >&2; bin=.build/release/fracview; fi
if [ -z "$weights" ]; then
  if [ -n "${FRACVIEW_WEIGHTS:-}" ]; then weights="$FRACVIEW_WEIGHTS"
  elif [ -d weights/fracture-classifier ]; then weights=weights/fracture-classifier
  elif [ -f weights/fracture-classifier.safetensors ]; then weights=weights/fracture-classifier.safetensors
  else
    weights=/tmp/fracview-bench-random-b4.safetensors
    [ -f "$weights" ] || python3 scripts/bench_pytorch.py --make-random efficientnet_b4 "$weights" >&2
  fi
fi
echo "weights: $weights" >&2
# A directory of fold members: fracview times its first member alone (then a case through all of them); PyTorch the same member.
member="$weights"
if [ -d "$weights" ]; then member=$(ls "$weights"/*.safetensors | head -n 1); fi
swift_json=$("$bin" bench --weights "$weights" --json --runs "$runs")
threads=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["threads"])' "$swift_json")
torch_json=$(python3 scripts/bench_pytorch.py --weights "$member" --threads "$threads" --runs "$runs" --json)
python3 - "$swift_json" "$torch_json" <<'PY'
import json, sys
s, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"fracview : median {s['forward_ms_median']:.1f} ms  p90 {s['forward_ms_p90']:.1f} ms  "
      f"(Grad-CAM +{s['gradcam_ms_median']:.2f} ms, attention {s['attention_ms_median']:.2f} ms = "
      f"{s['explain_extra_percent']:.1f} % of a forward; peak RSS {s['peak_rss_mb']:.0f} MB; "
      f"{s['threads']} threads, {s['openblas_core']})")
if s.get("ensemble_case_ms_median") is not None:
    print(f"members  : {s['members']} members, one case through all (forward + Grad-CAM each): median "
          f"{s['ensemble_case_ms_median']:.1f} ms, p90 {s['ensemble_case_ms_p90']:.1f} ms")
print(f"pytorch  : median {t['forward_ms_median']:.1f} ms  p90 {t['forward_ms_p90']:.1f} ms  ({t['framework']}, {t['threads']} threads)")
print(f"ratio    : fracview / pytorch = {s['forward_ms_median'] / t['forward_ms_median']:.2f} "
      f"(PyTorch is {t['forward_ms_median'] / s['forward_ms_median']:.2f}x the fracview time)")
print(json.dumps({"fracview": s, "pytorch": t}))
PY
