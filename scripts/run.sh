#!/usr/bin/env bash
# The main job: open the review TUI on the bundled sample with the shipped weights.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The same flags as scripts/test.sh, so switching between the README's two commands never rebuilds everything.
swift build -c release -Xswiftc -enable-testing --product fracview >&2
exec .build/release/fracview review "$@"
