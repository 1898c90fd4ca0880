#!/usr/bin/env bash
# fetch-llama-vocabs.sh — llama.cpp's tokenizer test data (vocabulary-only
# GGUF files models/ggml-vocab-*.gguf, with .inp inputs and .out expected
# ids) and its collection of real chat templates (models/templates/*.jinja,
# for the chat-template detection test) from the llama-cpp-python source
# package, pinned to the version whose vendored llama.cpp made our golden
# files.  Test data only: nothing from it is committed or linked into tinglado.
set -euo pipefail
. "$(dirname "$0")/cache-dir.sh"
VERSION=0.3.36
dir="$TG_VOCABS"
tdir="$TG_TEMPLATES"
if [ -f "$dir/.version" ] && [ "$(cat "$dir/.version")" = "$VERSION" ] &&
   [ -f "$tdir/.version" ] && [ "$(cat "$tdir/.version")" = "$VERSION" ]; then exit 0; fi
echo "setup: fetching llama.cpp's tokenizer test vocabularies (llama-cpp-python $VERSION sdist)"
mkdir -p "$TG_CACHE"
tmp=$(mktemp -d "$TG_CACHE/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
  --dest "$tmp" "llama-cpp-python==$VERSION" 2>/dev/null ||
python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$tmp" "llama-cpp-python==$VERSION"
tar -xzf "$tmp"/llama_cpp_python-$VERSION.tar.gz -C "$tmp" --wildcards \
  "llama_cpp_python-$VERSION/vendor/llama.cpp/models/ggml-vocab-*" \
  "llama_cpp_python-$VERSION/vendor/llama.cpp/models/templates/*.jinja"
rm -rf "$dir"; mkdir -p "$dir"
mv "$tmp"/llama_cpp_python-$VERSION/vendor/llama.cpp/models/ggml-vocab-* "$dir"/
echo "$VERSION" > "$dir/.version"
rm -rf "$tdir"; mkdir -p "$tdir"
mv "$tmp"/llama_cpp_python-$VERSION/vendor/llama.cpp/models/templates/*.jinja "$tdir"/
echo "$VERSION" > "$tdir/.version"
echo "setup: $(ls "$dir" | grep -c '\.gguf$') vocabularies in $dir, $(ls "$tdir" | grep -c '\.jinja$') chat templates in $tdir"
