#!/usr/bin/env bash
# Runs every test: the Swift suites (in release: the numerics are too slow in debug) and the Python training tests,
# then prints one closing line with the totals. Both suites always run; the closing line always prints, and the
# script exits non-zero if either suite failed (or could not run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
# The shared-store tests run against a real PostgreSQL server on loopback; without one they skip (and fail under CI).
if pg_env=$(bash scripts/postgres.sh start); then
  eval "$pg_env"
else
  echo "warning: could not start PostgreSQL (scripts/postgres.sh): the PostgreSQL store tests will skip"
fi
# The PACS tests (Tests/pacs) run against a private Orthanc with its DICOMweb plugin on 127.0.0.1
# (scripts/orthanc.sh), stopped again when the tests end.
orthanc_started=0
if orthanc_env=$(bash scripts/orthanc.sh start); then
  eval "$orthanc_env"
  orthanc_started=1
else
  echo "warning: could not start Orthanc (scripts/orthanc.sh): the PACS tests will skip"
fi
# scripts/run.sh builds with the same flags: one build serves both README commands.
flags=(-c release -Xswiftc -enable-testing)
swift_log=$(mktemp)
py_log=$(mktemp)
trap 'rm -f "$swift_log" "$py_log"; if ((orthanc_started)); then bash scripts/orthanc.sh stop || true; fi' EXIT

# The number in the first "N word" of a summary line, or 0.
count() { grep -oE "[0-9]+ $1" <<<"$2" | head -n 1 | grep -oE "^[0-9]+" || echo 0; }

# Swift: count XCTest's per-test verdicts ("failures" in its summary counts assertions, not tests).
swift_status=0
if swift build "${flags[@]}" --build-tests; then
  swift test "${flags[@]}" --skip-build "$@" 2>&1 | tee "$swift_log" || swift_status=$?
else
  swift_status=$?
  echo "swift build failed (exit $swift_status): Swift tests not run"
fi
swift_passed=$(grep -cE "^Test Case .* passed \(" "$swift_log" || true)
swift_failed=$(grep -cE "^Test Case .* failed \(" "$swift_log" || true)
swift_skipped=$(grep -cE "^Test Case .* skipped \(" "$swift_log" || true)
if ((swift_status != 0 && swift_failed == 0)); then
  swift_failed=1 # the build failed or the test process crashed before a test could report failing
fi

# Python: pytest's summary line, e.g. "2 failed, 30 passed, 1 skipped, 1 error in 3.21s".
py_status=0 py_passed=0 py_failed=0 py_skipped=0
if python3 -c "import training.tv, pytest" 2>/dev/null; then
  bin_dir=$(swift build "${flags[@]}" --show-bin-path 2>/dev/null || echo "$PWD/.build/release")
  FRACVIEW_BIN="$bin_dir/fracview" python3 -m pytest -q training/tests Tests/pacs 2>&1 | tee "$py_log" || py_status=$?
  summary=$(grep -E "[0-9]+ (passed|failed|skipped|errors?|deselected).* in [0-9.]+s" "$py_log" | tail -n 1 || true)
  py_passed=$(count passed "$summary")
  py_failed=$(($(count failed "$summary") + $(count "errors?" "$summary")))
  py_skipped=$(count skipped "$summary")
  # Exit 5 is "no tests collected"; any other non-zero status is a failure even without a summary line.
  if ((py_status != 0 && py_status != 5 && py_failed == 0)); then py_failed=1; fi
else
  echo "training tests skipped: PyTorch CPU is not installed (see training/requirements.txt)"
fi

echo "swift: $swift_passed passed, $swift_failed failed, $swift_skipped skipped (exit $swift_status)"
echo "python: $py_passed passed, $py_failed failed, $py_skipped skipped (exit $py_status)"
echo "tests: $((swift_passed + py_passed)) passed, $((swift_failed + py_failed)) failed, $((swift_skipped + py_skipped)) skipped"
if ((swift_status != 0 || (py_status != 0 && py_status != 5))); then exit 1; fi
