#!/usr/bin/env bash
# The Python package's checks: builds crates/py (PyO3 + maturin), installs it into a venv, then
# runs cargo fmt/clippy on the binding crate, ruff, mypy.stubtest on the `.pyi` stubs and pytest
# (crates/py/tests).
#
# The venv lives in .venv/ at the repository root (git-ignored; override with IOVMARKET_VENV) and
# is reused: the tools of crates/py/requirements-dev.txt are installed again only when that file
# changes, and cargo rebuilds only what changed (crates/py/target/). Set IOVMARKET_BUILD_LOCK to a
# file to serialise the cargo and maturin builds with other jobs through flock(1).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${IOVMARKET_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
manifest="crates/py/Cargo.toml"

locked() {
  if [ -n "${IOVMARKET_BUILD_LOCK:-}" ]; then
    flock "$IOVMARKET_BUILD_LOCK" "$@"
  else
    "$@"
  fi
}

if [ ! -x "$venv/bin/python" ]; then
  echo "python-tests: creating $venv"
  "$python" -m venv "$venv"
fi
export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV="$venv"

reqs="crates/py/requirements-dev.txt"
stamp="$venv/.iovmarket-requirements.sha256"
want="$(sha256sum "$reqs" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "python-tests: installing $reqs"
  python -m pip install --quiet --upgrade pip
  python -m pip install --quiet -r "$reqs"
  echo "$want" > "$stamp"
fi

echo "python-tests: cargo fmt + clippy ($manifest)"
locked cargo fmt --manifest-path "$manifest" --check
locked cargo clippy --quiet --manifest-path "$manifest" --all-targets -- -D warnings

echo "python-tests: building and installing crates/py"
# The same build as `pip install ./crates/py`, without a throw-away build environment.
locked python -m pip install --quiet --no-build-isolation --no-deps --force-reinstall ./crates/py

echo "python-tests: ruff"
ruff check crates/py
ruff format --check crates/py

echo "python-tests: mypy.stubtest (the .pyi stubs against the built module)"
python -m mypy.stubtest iovmarket._core

echo "python-tests: pytest"
# From crates/py so that its pyproject (pytest options) applies; the tests import the installed
# package, not the source tree.
cd crates/py
python -m pytest -q -p no:cacheprovider tests
