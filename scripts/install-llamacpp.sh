#!/usr/bin/env bash
# Installs llama-cpp-python into the given virtual environment, building it from source once per machine.
#
# Built for this CPU (GGML_NATIVE) but without AMX: some virtual machines advertise AMX yet do not grant
# its tile state, and ggml's AMX kernels then crash on the first matrix multiply. The wheel is kept in a
# folder named after the version and the flags, because pip's own cache reuses a wheel whatever the flags.
set -euo pipefail
venv=${1:-.venv}
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/backchat-assistant/wheels/llama-cpp-python-$version-native-noamx"
if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "Building llama-cpp-python $version from source (about 5 minutes, once per machine)..."
  mkdir -p "$wheels"
  CFLAGS="$flags" CXXFLAGS="$flags" \
  CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL=2 \
    "$venv/bin/pip" wheel --no-deps --no-cache-dir --no-binary llama-cpp-python -w "$wheels" \
    "llama-cpp-python==$version"
fi
# --force-reinstall: a llama-cpp-python of the same version but other flags may already be installed.
"$venv/bin/pip" install --quiet --no-deps --force-reinstall "$wheels"/llama_cpp_python-*.whl
