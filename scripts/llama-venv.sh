#!/usr/bin/env bash
# llama-venv.sh — the cached Python venv with llama-cpp-python (its vendored
# llama.cpp, compiled for this machine: slow the first time, ~20 minutes on
# 2 cores), gguf and numpy.  Used by bench/ and tools/ only: tinglado itself
# and `make test` never need it.  Prints the venv's python.
set -euo pipefail
. "$(dirname "$0")/cache-dir.sh"
VENV="$TG_CACHE/llama-venv"
VERSION=0.3.36
if ! "$VENV/bin/python" -c "import llama_cpp, gguf, numpy; assert llama_cpp.__version__ == '$VERSION'" 2>/dev/null; then
  echo "llama-venv: building llama-cpp-python $VERSION into $VENV (compiles llama.cpp; takes a while)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "llama-cpp-python==$VERSION" gguf numpy >&2
fi
echo "$VENV/bin/python"
