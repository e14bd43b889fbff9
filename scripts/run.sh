#!/usr/bin/env bash
# The main job: open the review TUI on the bundled sample with the shipped weights.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product fracview >&2
exec .build/release/fracview review "$@"
