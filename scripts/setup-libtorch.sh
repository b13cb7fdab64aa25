#!/usr/bin/env bash
# Creates (once) a Python venv holding torch 2.4.0, the libtorch that rust-bert 0.23 / tch 0.17
# need, for the optional `rust-bert` feature. Idempotent: an existing, complete venv is reused.
#
#   scripts/setup-libtorch.sh [DIR]        # default ${ONTLEED_TORCH_CACHE:-$HOME/.cache/ontleed/torch-2.4.0}
#   eval "$(scripts/setup-libtorch.sh --env)"   # also prints the variables to build and run with
#
# PyPI has only the CUDA build of torch 2.4.0 (about 5 GB with its nvidia-* wheels, which are
# needed even on a CPU-only machine); it is downloaded once and kept outside the repository.
set -euo pipefail
print_env=0
if [ "${1:-}" = "--env" ]; then print_env=1; shift; fi
dir=${1:-${ONTLEED_TORCH_CACHE:-$HOME/.cache/ontleed/torch-2.4.0}}
python=${PYTHON:-python3}

if [ ! -f "$dir/.complete" ]; then
  echo "setup-libtorch: installing torch 2.4.0 into $dir (about 5 GB, once)" >&2
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  "$python" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check torch==2.4.0 >&2
  touch "$dir/.complete"
fi

# Located without importing torch (quicker, and no NumPy warning).
torch=$("$dir/bin/python" -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("torch").origin))')
if [ "$print_env" = 1 ]; then
  echo "export LIBTORCH='$torch'"
  echo "export LIBTORCH_CXX11_ABI=0"
  echo "export LD_LIBRARY_PATH='$torch/lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
else
  echo "setup-libtorch: torch is in $torch" >&2
fi
