#!/usr/bin/env bash
# The Python package and the Spark job (python/): a venv, `pip install ./python` (builds the
# abi3 wheel with maturin), and the pytest suite, Spark on local[2] included. Called by
# .ci/run; runs alone as well. Venvs live under ${ONTLEED_PY_CACHE:-target/py} (reused when
# there); Rust builds go to ${CARGO_TARGET_DIR:-target}.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
step() { echo "--- python: $* ($((SECONDS - start)) s)"; }

cache="${ONTLEED_PY_CACHE:-target/py}"
case "$cache" in /*) ;; *) cache="$root/$cache" ;; esac
venv="$cache/venv-ci"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) export CARGO_TARGET_DIR="$root/$CARGO_TARGET_DIR" ;; esac

# Pinned: the versions the suite was written against.
pins=(maturin==1.16.0 pytest==9.2.0 pyarrow==26.0.1 pyspark==4.3.0 pandas==2.3.3 numpy==2.4.6)

step "java (Spark needs 17 or later)"
if ! command -v java >/dev/null 2>&1 && [ -x "$(command -v apt-get)" ]; then
  (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
    || echo "java could not be installed; the Spark tests will fail"
fi
java -version 2>&1 | head -1 || true

step "venv $venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check "${pins[@]}"
export PATH="$venv/bin:$PATH"   # the build backend runs `maturin` from the PATH
"$venv/bin/python" --version

step "one lockfile (the workspace's Cargo.lock covers python/)"
if ! cargo metadata --locked --format-version 1 >/dev/null 2>&1; then
  echo "warning: Cargo.lock is out of date; the build updates it. Commit the updated Cargo.lock."
fi

step "the CLI for the parity tests (cargo build --release)"
cargo build --release --quiet --bin ontleed
export ONTLEED_BIN="$CARGO_TARGET_DIR/release/ontleed"

step "pip install ./python (wheel build)"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation \
  --force-reinstall --no-deps ./python
"$venv/bin/python" -c 'import ontleed; print("ontleed", ontleed.__version__, ontleed.Pipeline())'

step "pytest python/tests (Spark on local[2] included)"
# From python/, where pytest's rootdir and config are; the installed package is the one tested.
(cd python && ONTLEED_REQUIRE_SPARK=1 "$venv/bin/python" -m pytest tests -q -p no:cacheprovider)

step "done"
