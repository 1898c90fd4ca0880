#!/usr/bin/env bash
# demo.sh BINARY — the main job on the default model (what `make demo` runs):
# describe the model, then let it continue a prompt, streaming the text and
# reporting its speed.  Gemma 3 270M in this file is the pretrained (not
# instruction-tuned) model, so it continues text rather than chatting.
set -euo pipefail
. "$(dirname "$0")/cache-dir.sh"
bin=${1:-build/rel/tinglado}
model=gemma-3-270m-q4_k_m
"$bin" info -m "$model"
echo
prompt=${TINGLADO_DEMO_PROMPT:-"A home server is a small computer that"}
echo "\$ tinglado run -m $model --raw -n 64 --temp 0 -p \"$prompt\""
"$bin" run -m "$model" --raw -n 64 --temp 0 -p "$prompt"
