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

# llama.cpp's default build (-march=native) uses AMX matrix tiles wherever the CPU lists
# them, but some virtual machines list AMX without letting a process load a tile
# configuration: every matrix product then dies with a general-protection fault
# (ldtilecfg in ggml_backend_amx_mul_mat). Where the CPU lists AMX, build for the CPU's
# other vector extensions explicitly instead, with AMX off.
if [ -z "${CMAKE_ARGS:-}" ] && [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] \
    && grep -qw amx_tile /proc/cpuinfo 2>/dev/null; then
  cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  cmake_args="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  for pair in sse4_2:SSE42 avx:AVX avx2:AVX2 bmi2:BMI2 fma:FMA f16c:F16C avx_vnni:AVX_VNNI \
      avx512f:AVX512 avx512vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
    if [[ "$cpu_flags" == *" ${pair%%:*} "* ]]; then state=ON; else state=OFF; fi
    cmake_args="$cmake_args -DGGML_${pair#*:}=$state"
  done
  export CMAKE_ARGS="$cmake_args"
fi

# The stamp records what was installed, so a second run skips pip entirely.
fingerprint=$(cat pyproject.toml <(echo "extras=$extras cmake=${CMAKE_ARGS:-}") | sha256sum | cut -c1-16)
stamp=".venv/.stillroom-installed-$fingerprint"
if [ ! -f "$stamp" ]; then
  echo "Installing Stillroom$extras into .venv (the first run compiles llama.cpp: about 7 minutes on 2 cores)..."
  .venv/bin/python -m pip install -qq --upgrade pip
  # pip's own wheel cache is keyed by the source archive alone, so it would hand back a
  # llama.cpp built with other CMAKE_ARGS (or for another CPU); our cache is keyed by both.
  llama_requirement=$(grep -o '"llama-cpp-python==[^"]*"' pyproject.toml | tr -d '"')
  build_key=$(echo "$llama_requirement ${CMAKE_ARGS:-native} $(uname -m)" | sha256sum | cut -c1-16)
  wheel_dir="${XDG_CACHE_HOME:-$HOME/.cache}/stillroom/llama-wheels/$build_key"
  if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    mkdir -p "$wheel_dir"
    .venv/bin/python -m pip wheel -qq --no-deps --no-cache-dir -w "$wheel_dir" "$llama_requirement"
  fi
  .venv/bin/python -m pip install -qq --force-reinstall --no-deps "$wheel_dir"/llama_cpp_python-*.whl
  .venv/bin/python -m pip install -qq -e ".$extras"
  rm -f .venv/.stillroom-installed-*
  touch "$stamp"
fi

.venv/bin/python packaging/install_embedded_model.py
