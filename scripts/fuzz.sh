#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (the toolchain's clang runtime, driven through LLVMFuzzerRunDriver, since
# SwiftPM executables bring their own main).
#
#   bash scripts/fuzz.sh HARNESS [SECONDS]   one harness for SECONDS (default 600), growing .build-fuzz/corpus/HARNESS
#   bash scripts/fuzz.sh --ci [RUNS]         every harness for RUNS executions (default 10000), as CI runs them
#
# Harnesses: weights image dicom dataset database input yaml dicomweb (Sources/FuzzHarnesses). Seeds come from Tests/Fuzz/corpus and
# Tests/Fuzz/regressions. A crash stops the run, prints the input (libFuzzer's "Base64:" line) and saves it under
# .build-fuzz/crashes/HARNESS/; commit it to Tests/Fuzz/regressions/HARNESS/ and the FuzzTests replay it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

harnesses=(weights image dicom dataset database input yaml dicomweb)
swiftc_path=$(readlink -f "$(command -v swiftc)")
runtime=$(ls "$(dirname "$swiftc_path")"/../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -n 1 || true)
if [[ -z "$runtime" ]]; then
  echo "fuzz.sh: libFuzzer's runtime (libclang_rt.fuzzer_no_main) is not in this Swift toolchain" >&2
  exit 1
fi
flags=(-c release --scratch-path .build-fuzz --product fracview-fuzz
       -Xswiftc -DFUZZING -Xswiftc -sanitize=address
       -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp
       -Xlinker "$runtime" -Xlinker -lstdc++)
swift build "${flags[@]}" >&2
bin=$(cd "$(swift build "${flags[@]}" --show-bin-path)" && pwd)/fracview-fuzz

# Each harness: its libFuzzer options. Inputs are capped near the largest real one (a safetensors header,
# a small SQLite file); the memory limit catches the unbounded allocations the parsers must refuse.
# libFuzzer runs inside .build-fuzz/ with absolute paths, so nothing it writes (corpus, crash, leak or timeout
# inputs, logs) lands in the working tree; the committed seed folders are only read.
run() { # HARNESS LIBFUZZER-ARGS…
  local h=$1; shift
  local top=$PWD
  local work=$top/.build-fuzz/corpus/$h crashes=$top/.build-fuzz/crashes/$h seeds=()
  mkdir -p "$work" "$crashes"
  for d in "$top/Tests/Fuzz/corpus/$h" "$top/Tests/Fuzz/regressions/$h"; do [[ -d "$d" ]] && seeds+=("$d"); done
  (cd "$top/.build-fuzz" && SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$bin" "$h" "$work" "${seeds[@]}" \
    -max_len=65536 -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$@")
}

if [[ "${1:-}" == "--ci" ]]; then
  runs=${2:-10000}
  failed=0
  for h in "${harnesses[@]}"; do
    echo "== fuzz $h: $runs runs"
    log=$(mktemp)
    if run "$h" -runs="$runs" -max_total_time=110 2>&1 | tee "$log" | grep -E "^(#[0-9]+ +(INITED|DONE)|stat::|==[0-9]+==ERROR|SUMMARY|Base64|artifact_prefix)"; then :; fi
    status=${PIPESTATUS[0]}
    if grep -qE "ERROR: libFuzzer|ERROR: AddressSanitizer|deadly signal|Base64:" "$log" || ((status != 0)); then
      echo "fuzz $h: FAILED (exit $status); the crash input is above (Base64) and in .build-fuzz/crashes/$h/"
      tail -n 40 "$log"
      failed=1
    fi
    rm -f "$log"
  done
  exit $failed
fi

h=${1:?usage: scripts/fuzz.sh HARNESS [SECONDS] | --ci [RUNS]}
seconds=${2:-600}
[[ " ${harnesses[*]} " == *" $h "* ]] || { echo "fuzz.sh: unknown harness '$h' (${harnesses[*]})" >&2; exit 2; }
run "$h" -max_total_time="$seconds"
