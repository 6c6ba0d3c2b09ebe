#!/usr/bin/env bash
# Browser tests of `iovmarket replay`: writes replay pages for the paper scenario, a SUMO trace
# (configs/sumo_grid.toml), a window of the city preset (configs/city.toml) and a trained policy
# (--checkpoint), then drives each in headless Chromium (scripts/replay_browser_test.py, the
# DevTools protocol over a pipe) and checks: no JS errors and no network requests, the ready flag, as many vehicle marks at slot 0 as `render`
# draws for slot 1, goto(k) changes the trades and moves the chart cursors, the arrow keys step;
# and a screenshot of slot 10 of each page.
#
# Outputs go to $IOVMARKET_BROWSER_OUT (default target/browser-tests/): the pages, the
# screenshots and results.jsonl (file size and first-frame time of each page).
# Chromium is required: without it the script fails (.ci/run installs it). Set CHROMIUM to use
# another binary. Set IOVMARKET_BUILD_LOCK to a file to serialise the cargo build through flock(1).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
chromium="${CHROMIUM:-chromium}"
if ! command -v "$chromium" >/dev/null; then
  echo "browser-tests: $chromium not found; install it (apt-get install -y chromium)" >&2
  exit 1
fi
out="${IOVMARKET_BROWSER_OUT:-$root/target/browser-tests}"
rm -rf "$out"
mkdir -p "$out"

build=(cargo build --quiet -p iovmarket-cli)
if [ -n "${IOVMARKET_BUILD_LOCK:-}" ]; then
  flock "$IOVMARKET_BUILD_LOCK" "${build[@]}"
else
  "${build[@]}"
fi
bin="$root/target/debug/iovmarket"

trap 'echo "browser-tests: FAILED (see $out)" >&2' ERR

# run_case NAME "FLAGS OF REPLAY AND RENDER" ["FLAGS OF REPLAY ONLY"]
run_case() {
  local name="$1" shared="$2" own="${3:-}"
  # shellcheck disable=SC2086 # the flags are word lists
  "$bin" replay $shared $own --out "$out/$name.html" 2>"$out/$name.log"
  # shellcheck disable=SC2086
  "$bin" render --slot 1 $shared --out "$out/$name-slot1.svg" 2>>"$out/$name.log"
  local vehicles
  vehicles="$(grep -o '<circle class="v ' "$out/$name-slot1.svg" | wc -l)"
  python3 scripts/replay_browser_test.py "$out/$name.html" --chromium "$chromium" \
    --expect-vehicles "$vehicles" --screenshot "$out/$name-slot10.png" >>"$out/results.jsonl"
  echo "browser-tests: $name ok ($vehicles vehicles at slot 1)"
}

run_case paper "--seed 1"
run_case trace "--config configs/sumo_grid.toml"
run_case city "--config configs/city.toml --window 0,0,1250,1250" "--slots 20"
# A trained policy's bids (a one-epoch policy: the page, not the policy, is under test).
small="--set scenario.vehicles=20 --set scenario.episode_slots=30 --set train.n_envs=2 --set train.ppo_epochs=2"
# shellcheck disable=SC2086
"$bin" train --epochs 1 $small --out "$out/policy" >"$out/policy.log" 2>&1
run_case learned "$small" "--checkpoint $out/policy/checkpoint.ckpt"
cat "$out/results.jsonl"
