#!/usr/bin/env bash
# Sets up Stillroom in .venv at the repository root: the package (editable) with its
# dependencies, llama-cpp-python compiled for this machine, and the embedded default model.
# Safe to run again: it only reinstalls when pyproject.toml, the extras or CMAKE_ARGS change.
#
#   bash packaging/setup.sh          # the app
#   bash packaging/setup.sh --dev    # the app plus the test and lint tools, and MLX
#                                    # (stillroom[mlx]: on Linux x86-64 its CPU backend,
#                                    # ~200 MB, ~15 s from pip's cache) so the MLX tests run
#
# llama-cpp-python builds for the CPU here. For a GPU build, set CMAKE_ARGS first:
#   Apple Silicon (Metal): CMAKE_ARGS="-DGGML_METAL=on" bash packaging/setup.sh
#   NVIDIA (CUDA):         CMAKE_ARGS="-DGGML_CUDA=on"  bash packaging/setup.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

extras=""
for arg in "$@"; do
  case "$arg" in
    --dev) extras="[dev]" ;;
    *) echo "setup.sh: unknown option '$arg' (use --dev)" >&2; exit 2 ;;
  esac
done

python_bin="${PYTHON:-python3}"
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Stillroom needs Python 3.11 or newer; '$python_bin' is $("$python_bin" -V 2>&1)." >&2
  echo "Install python3.11 (Debian: apt-get install python3.11 python3.11-venv) or set PYTHON=." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $("$python_bin" -V)..."
  "$python_bin" -m venv .venv
fi

# The stamp records what was installed, so a second run skips pip entirely.
fingerprint=$(cat pyproject.toml <(echo "extras=$extras cmake=${CMAKE_ARGS:-}") | sha256sum | cut -c1-16)
stamp=".venv/.stillroom-installed-$fingerprint"
if [ ! -f "$stamp" ]; then
  echo "Installing Stillroom$extras into .venv (the first run compiles llama.cpp: about 7 minutes on 2 cores)..."
  .venv/bin/python -m pip install -qq --upgrade pip
  .venv/bin/python -m pip install -qq -e ".$extras"
  rm -f .venv/.stillroom-installed-*
  touch "$stamp"
fi

.venv/bin/python packaging/install_embedded_model.py
