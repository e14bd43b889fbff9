#!/usr/bin/env bash
# Runs every test: the Swift suites (in release: the numerics are too slow in debug) and the Python training tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}" --build-tests
swift test "${flags[@]}" --skip-build "$@"
if python3 -c "import training.tv, pytest" 2>/dev/null; then
  FRACVIEW_BIN="$PWD/.build/release/fracview" python3 -m pytest -q training/tests
else
  echo "training tests skipped: PyTorch CPU is not installed (see training/requirements.txt)"
fi
