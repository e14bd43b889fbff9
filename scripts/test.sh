#!/usr/bin/env bash
# Runs every test: the Swift suites (in release: the numerics are too slow in debug) and the Python training tests,
# then prints one closing line with the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
flags=(-c release -Xswiftc -enable-testing)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

swift build "${flags[@]}" --build-tests
swift test "${flags[@]}" --skip-build "$@" 2>&1 | tee "$log"
# XCTest's last "Executed N tests, with S tests skipped and F failures" line is the whole run's total.
summary=$(grep -E "Executed [0-9]+ tests?, with" "$log" | tail -n 1)
total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
skipped=$(grep -oE "[0-9]+ tests? skipped" <<<"$summary" | grep -oE "^[0-9]+" || echo 0)
failed=$(grep -oE "[0-9]+ failures?" <<<"$summary" | grep -oE "^[0-9]+" || echo 0)

if python3 -c "import training.tv, pytest" 2>/dev/null; then
  FRACVIEW_BIN="$PWD/.build/release/fracview" python3 -m pytest -q training/tests 2>&1 | tee "$log"
  py_passed=$(grep -oE "[0-9]+ passed" "$log" | tail -n 1 | grep -oE "^[0-9]+" || echo 0)
  py_skipped=$(grep -oE "[0-9]+ skipped" "$log" | tail -n 1 | grep -oE "^[0-9]+" || echo 0)
else
  echo "training tests skipped: PyTorch CPU is not installed (see training/requirements.txt)"
  py_passed=0 py_skipped=0
fi
echo "tests: $((total - skipped - failed + py_passed)) passed, $failed failed, $((skipped + py_skipped)) skipped"
