# cache-dir.sh — sourced by the other scripts: where tinglado keeps models and
# downloaded test data.  Same rule as the program: $TINGLADO_CACHE, else
# $XDG_CACHE_HOME/tinglado, else ~/.cache/tinglado.
TG_CACHE="${TINGLADO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tinglado}"
TG_MODELS="$TG_CACHE/models"
TG_DEFAULT_MODEL="$TG_MODELS/gemma-3-270m-q4_k_m.gguf"
TG_VOCABS="$TG_CACHE/llama.cpp-vocab"
TG_TEMPLATES="$TG_CACHE/llama.cpp-templates"
