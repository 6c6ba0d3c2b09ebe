#!/usr/bin/env bash
# The project's test command (the README names it; .ci/run calls it): every Rust test of the
# workspace, the replay page in headless Chromium, then the Python package's tests when the
# binding is part of the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets
cargo test --workspace --doc
scripts/browser-tests.sh
if [ -x scripts/python-tests.sh ]; then
  scripts/python-tests.sh
fi
