#!/usr/bin/env bash
# demo.sh BINARY — the main job on the default model (what `make demo` runs).
set -euo pipefail
. "$(dirname "$0")/cache-dir.sh"
bin=${1:-build/rel/tinglado}
"$bin" --version
