#!/usr/bin/env bash
# Runs RESULTS.md's comparison grid with the notebook's full recipe (train.py defaults, 25 epochs, batch 32,
# nothing frozen): efficientnet_b4 from scratch and efficientnet_lite0 from ImageNet, each on the original
# folders and on the leak-free grouped split. Then prints the RESULTS.md table for the runs.
#
#   training/reproduce.sh DATA OUT [train.py options...]
#   PARALLEL=4 training/reproduce.sh /data/hbfmid runs --device cuda     # a GPU box: all four at once
#   training/reproduce.sh ../shared/datasets/hbfmid runs --threads 2      # 2-core CPU: up to 2.3 h per B4 row
#
# RUNS="b4-orig lite0-orig" limits the grid. Each run writes OUT/<run>/ and OUT/<run>.log.
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
data=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
split="$here/splits/hbfmid-grouped.csv"
mkdir -p "$out"

args_for() {
    case $1 in
        b4-orig)             echo "--arch efficientnet_b4" ;;
        b4-hbfmid-grouped)   echo "--arch efficientnet_b4 --split-manifest $split" ;;
        lite0-orig)          echo "--arch efficientnet_lite0 --pretrained" ;;
        lite0-hbfmid-grouped) echo "--arch efficientnet_lite0 --pretrained --split-manifest $split" ;;
        *) echo "unknown run '$1' (b4-orig b4-hbfmid-grouped lite0-orig lite0-hbfmid-grouped)" >&2; return 1 ;;
    esac
}

runs=${RUNS:-b4-orig b4-hbfmid-grouped lite0-orig lite0-hbfmid-grouped}
parallel=${PARALLEL:-1}
for r in $runs; do
    a=$(args_for "$r")
    # shellcheck disable=SC2086  # $a is a list of options
    python3 "$here/train.py" --data "$data" $a --out "$out/$r" "$@" >"$out/$r.log" 2>&1 &
    echo "started $r (log $out/$r.log)"
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
done
wait || true
failed=0 done_dirs=()
for r in $runs; do
    if [ -f "$out/$r/summary.json" ]; then
        done_dirs+=("$out/$r")
    else
        echo "error: run $r failed; the end of $out/$r.log:" >&2
        tail -n 5 "$out/$r.log" >&2
        failed=1
    fi
done
[ ${#done_dirs[@]} -gt 0 ] && python3 "$here/results_table.py" "${done_dirs[@]}"
exit $failed
